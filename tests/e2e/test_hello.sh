#!/usr/bin/env bash
# test_hello.sh - the hosted launcher's contract with hello: boot arguments
# reach the app, status=N is the exit status, --help lists the app's
# arguments, bad options are refused.
source "$(dirname "$0")/lib.sh"
HELLO=$ROOT/build/hosted/hello

out=$("$HELLO" --mem=1M alpha=1 status=0 2>&1)
rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q 'arg\[0\] = "alpha=1"'; then
	ok "hello prints its boot arguments"
else
	not_ok "hello prints its boot arguments" "status $rc" "$out"
fi
for s in 0 3 255; do
	"$HELLO" --mem=1M status=$s >/dev/null 2>&1
	rc=$?
	[ $rc = $s ] && ok "status=$s gives exit status $s" || not_ok "status=$s gives exit status $s" "got $rc"
done
out=$("$HELLO" --mem=1M status=x 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "status=x" && ok "a malformed status is an error that names it" ||
	not_ok "a malformed status is an error that names it" "status $rc" "$out"
out=$("$HELLO" --mem=1M bogus=7 2>&1)
echo "$out" | grep -q "unknown boot argument 'bogus=7'" && ok "unknown words are reported and ignored" ||
	not_ok "unknown words are reported and ignored" "$out"
out=$("$HELLO" --help 2>&1)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "status" && ok "--help lists the app's arguments" ||
	not_ok "--help lists the app's arguments" "status $rc" "$out"
"$HELLO" --frobnicate >/dev/null 2>&1 && not_ok "an unknown option is refused" || ok "an unknown option is refused"
"$HELLO" --mem=1Q >/dev/null 2>&1 && not_ok "a malformed --mem is refused" || ok "a malformed --mem is refused"
"$HELLO" --mem=1M --net:service=nosuchtap0 >/dev/null 2>&1 && not_ok "a device hello does not declare is refused" ||
	ok "a device hello does not declare is refused"
finish
