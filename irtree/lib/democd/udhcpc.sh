#!/bin/sh
# democd: udhcpc event script for ip=dhcp in /linuxrc (busybox's default is not in the initrd).
# udhcpc exports interface, ip, subnet, router and dns.
# shellcheck disable=SC2154
case "$1" in
  deconfig)
    ip addr flush dev "$interface"
    ip link set dev "$interface" up
    ;;
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    if [ -n "$dns" ]; then
      : > /etc/resolv.conf.dhcp
      for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf.dhcp; done
    fi
    ;;
esac
exit 0
