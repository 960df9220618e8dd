#!/bin/sh
# democd: udhcpc event script for ip=dhcp in /linuxrc (busybox's default is not in the initrd),
# and, as /usr/lib/democd/udhcpc, for domain 0's uplink (with RESOLV_CONF=/etc/resolv.conf).
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
      resolv=${RESOLV_CONF:-/etc/resolv.conf.dhcp}
      : > "$resolv"
      for d in $dns; do echo "nameserver $d" >> "$resolv"; done
    fi
    ;;
esac
exit 0
