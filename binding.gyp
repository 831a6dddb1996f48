{
  "targets": [
    {
      "target_name": "netplumb",
      "sources": [
        "src/addon.cc",
        "src/convert_in.cc",
        "src/convert_out.cc",
        "src/errors.cc",
        "src/handle_wrap.cc",
        "src/namespace.cc",
        "src/requests.cc",
        "src/brport.cc",
        "src/trace.cc",
        "src/watcher.cc",
        "src/wire.cc",
        "src/quick.cc",
        "native/handle.cpp",
        "native/netns.cpp",
        "native/nl/socket.cpp",
        "native/nl/transact.cpp",
        "native/rtnl/names.cpp",
        "native/rtnl/link.cpp",
        "native/rtnl/kinds/kinds.cpp",
        "native/rtnl/kinds/bond.cpp",
        "native/rtnl/kinds/bridge.cpp",
        "native/rtnl/kinds/geneve.cpp",
        "native/rtnl/kinds/ipvlan.cpp",
        "native/rtnl/kinds/macvlan.cpp",
        "native/rtnl/kinds/tun.cpp",
        "native/rtnl/kinds/veth.cpp",
        "native/rtnl/kinds/vlan.cpp",
        "native/rtnl/kinds/vxlan.cpp",
        "native/rtnl/addr.cpp",
        "native/rtnl/route.cpp",
        "native/rtnl/events.cpp",
        "native/rtnl/nsid.cpp",
        "native/rtnl/neigh.cpp",
        "native/rtnl/rule.cpp",
        "native/rtnl/brport.cpp",
        "native/local.cpp",
        "native/lock.cpp",
        "native/ct/conntrack.cpp",
        "native/nft/nft.cpp",
        "native/nft/ruleset.cpp"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++14", "-fno-exceptions"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: in a worker being terminated, a
      # failing N-API call carries an exception that cannot be fetched, and
      # node-addon-api would abort the whole process over it (Error::Fatal).
      "defines": [
        "NAPI_VERSION=8",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ]
    },
    {
      # The socket side of `netplumb cni-daemon`: loaded by the daemon only.
      "target_name": "netplumb_cni_daemon",
      "sources": ["native/cni-daemon/server.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++14", "-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      # The CNI plugin a runtime execs (bin/netplumb-cni runs it): hands the request to
      # the daemon over its socket, or runs the Node plugin itself. Plain C, no Node.
      "target_name": "netplumb-cni-client",
      "type": "executable",
      "sources": ["native/cni-client/client.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
