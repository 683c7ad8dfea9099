#!/bin/sh
# Clustered cron job for legiond: run from a `cron:` entry, so only the lord runs it (see
# cron.example.yaml). Deletes files older than PRUNE_DAYS under PRUNE_DIR, once for the whole
# cluster, and says which lord term (LEGION_EPOCH) did it.
#
#   PRUNE_DIR   directory to prune (required); a shared volume, or a store every node can reach
#   PRUNE_DAYS  age in days beyond which a file goes (default 7)
#   PRUNE_NAME  only files whose name matches this pattern (default "*")
#
# legiond starts a run only on the current lord and never while the last run is still going,
# but a run keeps going if the node loses the title midway. Pass LEGION_EPOCH to any store that
# can reject work from an older term if that matters to you.
set -eu

me=prune-on-lord
dir=${PRUNE_DIR:-}
days=${PRUNE_DAYS:-7}
name=${PRUNE_NAME:-*}
epoch=${LEGION_EPOCH:-?}
node=${LEGION_NODE_NAME:-$(hostname)}

[ -n "$dir" ] || { echo "$me: set PRUNE_DIR" >&2; exit 2; }
[ -d "$dir" ] || { echo "$me: $dir is not a directory" >&2; exit 2; }
case "$days" in '' | *[!0-9]*) echo "$me: PRUNE_DAYS must be a number, not '$days'" >&2; exit 2 ;; esac

echo "$me: node $node, lord of epoch $epoch, pruning files older than $days days in $dir"
# no pipe: a find that fails must fail the run (sh has no pipefail)
removed=$(find "$dir" -type f -name "$name" -mtime "+$days" -print -delete)
count=0
[ -z "$removed" ] || count=$(printf '%s\n' "$removed" | wc -l)
echo "$me: epoch $epoch removed $count files"
