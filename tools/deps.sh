#!/bin/sh
# tools/deps.sh - install every Debian 12 package atoll's build, tests and
# benchmarks use.  Safe to run again; run as root.
set -e
pkgs="make gcc clang libclang-rt-14-dev clang-format git python3 iproute2 iputils-ping
      socat netcat-openbsd nftables tcpdump tshark libbearssl-dev zlib1g-dev valgrind
      util-linux procps qemu-system-x86 nsd knot dnsutils knot-dnsutils hping3 iperf3 dnsperf ethtool linux-perf
      openssl gnutls-bin ca-certificates curl testssl.sh sslscan python3-cryptography
      wrk nghttp2-client pebble chromium fonts-dejavu-core tesseract-ocr tesseract-ocr-eng
      libnss3-tools"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "tools/deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
