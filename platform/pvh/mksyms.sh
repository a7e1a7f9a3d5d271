#!/bin/sh
# mksyms.sh ELF > syms.S - the symbol table a pvh image carries so that a
# crash report names functions even in the stripped image.
#
# Layout (read by trap.c): u32 count, u32 0, then count pairs of u32
# (address, offset of the name), sorted by address, then the NUL-terminated
# names.  Only code symbols: a backtrace names nothing else.
set -e
nm -n --defined-only "$1" | awk '
BEGIN { n = 0 }
$2 ~ /^[tTwW]$/ && $3 !~ /^(\.L|__(image|text|rodata|data|bss|syms)_)/ { addr[n] = $1; name[n] = $3; n++ }
END {
	print "\t.section .atoll_syms, \"a\""
	print "\t.balign 8"
	printf "\t.long %d, 0\n", n
	off = 0
	for (i = 0; i < n; i++) {
		printf "\t.long 0x%s, %d\n", substr(addr[i], length(addr[i]) - 7), off
		off += length(name[i]) + 1
	}
	for (i = 0; i < n; i++)
		printf "\t.asciz \"%s\"\n", name[i]
	print "\t.section .note.GNU-stack, \"\", @progbits"
}'
