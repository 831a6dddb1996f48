// setupFilesAfterEnv for the integration project.
// Jest 30 reads testTimeout only from the global config, so the per-project
// value in jest.config.js is enforced here.
jest.setTimeout(60_000);
