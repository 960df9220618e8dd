# shellcheck shell=sh
# democd: apply a kernel ip= argument (nfsroot syntax) with busybox, before init runs.
#   ip=<client>:<server>:<gateway>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>
#   ip=dhcp | on | any | off | none
# Sourced by /linuxrc; the kernel itself is built without CONFIG_IP_PNP.

# 255.255.0.0 -> 16
netmask_bits() {
  bits=0
  old_ifs=$IFS
  IFS=.
  # shellcheck disable=SC2086
  set -- $1
  IFS=$old_ifs
  for octet in "$@"; do
    while [ "$octet" -gt 0 ]; do
      bits=$((bits + (octet & 1)))
      octet=$((octet >> 1))
    done
  done
  echo "$bits"
}

wait_for_interface() {
  n=0
  while [ "$n" -lt 10 ]; do
    if [ -n "$1" ]; then
      [ -e "/sys/class/net/$1" ] && { echo "$1"; return 0; }
    else
      for i in /sys/class/net/*; do
        i=${i##*/}
        [ "$i" != lo ] && [ -e "/sys/class/net/$i" ] && { echo "$i"; return 0; }
      done
    fi
    sleep 1
    n=$((n + 1))
  done
  return 1
}

# configure_ip VALUE NEWROOT
configure_ip() {
  value=$1
  root=$2
  case "$value" in
    off | none) return 0 ;;
    dhcp | on | any | both | bootp) value="::::::dhcp" ;;
  esac
  old_ifs=$IFS
  IFS=:
  # shellcheck disable=SC2086
  set -- $value
  IFS=$old_ifs
  client=$1 gateway=$3 netmask=$4 name=$5 device=$6 autoconf=$7 dns0=$8 dns1=$9
  if ! device=$(wait_for_interface "$device"); then
    echo "democd: ip=: no network interface ${6:-found}; skipping network configuration"
    return 1
  fi
  ip link set dev lo up
  ip link set dev "$device" up
  case "$autoconf" in
    dhcp | on | any | both | bootp)
      udhcpc -i "$device" -n -q -t 5 -s /lib/democd/udhcpc.sh || echo "democd: ip=: no DHCP answer on $device"
      [ -f /etc/resolv.conf.dhcp ] && cp /etc/resolv.conf.dhcp "$root/etc/resolv.conf"
      ;;
    *)
      if [ -z "$client" ]; then
        echo "democd: ip=$value names no address; leaving $device unconfigured"
        return 1
      fi
      [ -n "$netmask" ] || netmask=255.255.255.0
      ip addr add "$client/$(netmask_bits "$netmask")" dev "$device"
      [ -n "$gateway" ] && ip route add default via "$gateway" dev "$device"
      echo "democd: ip=: $device is $client/$(netmask_bits "$netmask")${gateway:+ via $gateway}"
      ;;
  esac
  [ -n "$name" ] && echo "$name" > "$root/etc/hostname"
  if [ -n "$dns0$dns1" ]; then
    : > "$root/etc/resolv.conf"
    for d in $dns0 $dns1; do echo "nameserver $d" >> "$root/etc/resolv.conf"; done
  fi
  return 0
}
