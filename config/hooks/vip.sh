#!/bin/sh
# Virtual IP takeover for legiond: the lord holds the address, nobody else does.
#
#   vip.sh up|down [ADDR/PREFIX [DEV]]     explicit action
#   vip.sh                                 action from LEGION_EVENT: lord -> up;
#                                          unlord, death, setup -> down; others: nothing
#
# Settings (arguments win over the environment):
#   VIP_ADDR       IPv4 address with prefix, e.g. 10.0.0.100/24 (required)
#   VIP_DEV        interface, e.g. eth0 (required)
#   VIP_ARP_COUNT  gratuitous ARPs sent on up, one a second (default 2; 0 = none)
#   VIP_LOG        optional file; gets "<unix time> <node> up|down <addr> <dev>" written just
#                  before the address is added and just after it is removed, so in a log shared
#                  by several hosts a down line before an up line shows the hand-over order.
#
# Both actions are idempotent: up on a host that holds the address only announces it again,
# down on a host that does not hold it does nothing. Needs ip (iproute2), arping (iputils) and
# CAP_NET_ADMIN + CAP_NET_RAW (root).
set -eu

me=vip.sh
action=${1:-}
if [ -z "$action" ]; then
  case "${LEGION_EVENT:-}" in
    lord) action=up ;;
    # setup: a node that crashed while lord comes back without the address it never released
    unlord | death | setup) action=down ;;
    *)
      echo "$me: nothing to do for event '${LEGION_EVENT:-}'"
      exit 0
      ;;
  esac
fi
addr=${2:-${VIP_ADDR:-}}
dev=${3:-${VIP_DEV:-}}
arp_count=${VIP_ARP_COUNT:-2}

fail() {
  echo "$me: $*" >&2
  exit 2
}

case "$action" in up | down) ;; *) fail "unknown action '$action' (want up or down)" ;; esac
[ -n "$addr" ] || fail "no address: set VIP_ADDR (e.g. 10.0.0.100/24) or pass it after the action"
[ -n "$dev" ] || fail "no interface: set VIP_DEV (e.g. eth0) or pass it after the address"
case "$addr" in
  *:*) fail "'$addr' is IPv6; this script handles IPv4 only (gratuitous ARP)" ;;
  */*) ;;
  *) fail "'$addr' has no prefix length; write it as ADDR/PREFIX, e.g. $addr/24" ;;
esac
case "$arp_count" in '' | *[!0-9]*) fail "VIP_ARP_COUNT must be a number, not '$arp_count'" ;; esac
ip=${addr%/*}
node=${LEGION_NODE_NAME:-$(hostname)}

note() {
  [ -z "${VIP_LOG:-}" ] || echo "$(date +%s.%N) $node $1 $addr $dev" >>"$VIP_LOG"
}

holds() {
  ip -o -4 addr show dev "$dev" | grep -qF " inet $addr "
}

if [ "$action" = up ]; then
  note up
  # replace, not add: it succeeds whether or not the address is already there
  ip address replace "$addr" dev "$dev"
  echo "$me: $addr is up on $dev (epoch ${LEGION_EPOCH:-?})"
  if [ "$arp_count" -gt 0 ]; then
    # Neighbours still map the address to the old lord's MAC; this is what moves the traffic.
    arping -q -U -c "$arp_count" -I "$dev" "$ip"
    echo "$me: sent $arp_count gratuitous ARP for $ip on $dev"
  fi
else
  if holds; then
    # Another instance may have removed it since the check: only a failure that leaves the
    # address in place is an error.
    ip address del "$addr" dev "$dev" 2>/dev/null || ! holds || fail "could not remove $addr from $dev"
    echo "$me: $addr removed from $dev (epoch ${LEGION_EPOCH:-?})"
  else
    echo "$me: $addr is not on $dev; nothing to remove"
  fi
  note down
fi
