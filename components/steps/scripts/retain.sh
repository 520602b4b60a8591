#!/usr/bin/env bash
# Record whether a component keeps its packages and data on teardown. Every
# other step of the component depends on this one, so on destroy this file is
# read by their delete commands first and removed last.
: "${COMPONENT:?}"
flag="/etc/aihpc/retain/$COMPONENT"
case "$AIHPC_ACTION" in
  apply)
    : "${RETAIN:?}"
    aihpc_put "$flag" 0644 root:root "retain=$RETAIN"
    ;;
  delete)
    aihpc_rm "$flag"
    rmdir --ignore-fail-on-non-empty /etc/aihpc/retain /etc/aihpc 2>/dev/null || true
    ;;
esac
aihpc_done
