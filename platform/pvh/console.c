/*
 * console.c - the console on the first 16550 UART (COM1, I/O port 0x3f8),
 * which QEMU (every machine type), Firecracker and Cloud Hypervisor all
 * provide.  Output only, polled: the console is for logs and crash
 * reports, which must work with interrupts off.
 */
#include <stdarg.h>

#include "core/fmt.h"
#include "cpu.h"
#include "pvh.h"

#define COM1	  0x3f8
#define UART_THR  0 /* transmit holding */
#define UART_IER  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define LSR_THRE  0x20 /* the transmitter's FIFO is empty */
#define UART_FIFO 16

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);    /* no interrupts */
	outb(COM1 + UART_LCR, 0x80); /* divisor latch */
	outb(COM1 + 0, 1);	     /* 115200 baud: a no-op on a VMM, kept for real UARTs */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_write(const char *buf, size_t len)
{
	/* No "\r" before "\n": logs stay byte-identical to the hosted
	 * target's, and QEMU's stdio backend keeps the terminal's output
	 * processing (OPOST) on.  Once the transmitter is empty its 16-byte
	 * FIFO takes 16 bytes without another look: each port access is a
	 * trip to the VMM. */
	while (len) {
		/* A VMM's UART is always ready; the bound keeps a missing one
		 * (LSR reads 0xff or 0) from hanging us. */
		for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
			cpu_relax();
		size_t n = len < UART_FIFO ? len : UART_FIFO;
		for (size_t i = 0; i < n; i++)
			outb(COM1 + UART_THR, (uint8_t)buf[i]);
		buf += n;
		len -= n;
	}
}

void plat_console_write(const char *buf, size_t len)
{
	serial_write(buf, len);
}

void kprintf(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	serial_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
