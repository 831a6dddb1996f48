// The Go peer of bench/fresh.ts (W6): vishvananda/netlink's plain sequential
// loop, N /32 addresses or routes added or deleted on DEV, one call after the
// other, in this (fresh) process. Prints {"loopUs": per op, "firstMs": the
// first call, link lookup included}. Built offline from Debian's
// golang-github-vishvananda-netlink-dev (GO111MODULE=off GOPATH=/usr/share/gocode).
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
)

func ipOf(i int) *net.IPNet {
	return &net.IPNet{IP: net.IPv4(10, byte(200+(i>>16)), byte((i>>8)&255), byte(i&255)), Mask: net.CIDRMask(32, 32)}
}

func one(kind, op string, link netlink.Link, i int) error {
	if kind == "addr" {
		a := &netlink.Addr{IPNet: ipOf(i)}
		if op == "add" {
			return netlink.AddrAdd(link, a)
		}
		return netlink.AddrDel(link, a)
	}
	r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: ipOf(i), Scope: netlink.SCOPE_LINK}
	if op == "add" {
		return netlink.RouteAdd(r)
	}
	return netlink.RouteDel(r)
}

func main() {
	kind, op, dev := os.Args[1], os.Args[2], os.Args[3]
	n, _ := strconv.Atoi(os.Args[4])
	t0 := time.Now()
	link, err := netlink.LinkByName(dev)
	if err == nil {
		err = one(kind, op, link, 0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	first := time.Since(t0)
	t1 := time.Now()
	for i := 1; i < n; i++ {
		if err := one(kind, op, link, i); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	loop := time.Since(t1)
	fmt.Printf("{\"loopUs\": %.3f, \"firstMs\": %.3f}\n", float64(loop.Nanoseconds())/1e3/float64(n-1), float64(first.Nanoseconds())/1e6)
}
