/* blkbench: the Linux peer of the kernel's `run=bench-blk` (kernel/src/bench.rs),
 * run as part of the initramfs `cargo xtask bench blk` boots Linux with
 * (ci/src/peers/linux.rs). Built with `gcc -static`.
 *
 * Same requests as the kernel's benchmark, issued through O_DIRECT on the raw
 * device so the page cache never answers: 1 MiB sequential reads over the
 * first min(64 MiB, disk), SEQ_PASSES passes; the same chunks read (untimed)
 * and written back (timed) with a flush (fsync) after each pass; RAND_OPS
 * 4 KiB reads at the offsets of the same xorshift64 sequence over the whole
 * device, one at a time. Then the same 4 KiB random reads QD at a time
 * through Linux AIO (io_submit/io_getevents, the raw syscalls), each batch
 * waited for whole like the kernel's `read_many`, for each depth given.
 *
 * Output: the kernel's line format, `bench: <name> <value> <unit>`, with
 * MB/s = 10^6 bytes per second, and one `bench-config:` line the host
 * compares with the kernel's so both are known to have run the same requests.
 * The run ends QEMU through isa-debug-exit (port 0xf4): 0x10 on success,
 * 0x11 on any error, which is printed first.
 *
 * argv: DEVICE [boot | bench [QD...]]. `boot` only waits for the device and
 * reports it ready (the boot benchmark). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Keep equal to kernel/src/bench.rs; the host checks the config lines. */
#define CHUNK (1u << 20)
#define SEQ_SPAN (64ull << 20)
#define SEQ_PASSES 16
#define RAND_OPS 8192
#define RAND_SIZE 4096u
#define SEED 0x9e3779b97f4a7c15ull
#define MAX_QD 64

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void qemu_exit(int pass)
{
	fflush(stdout);
	if (ioperm(0xf4, 4, 1) == 0)
		outb(pass ? 0x10 : 0x11, 0xf4);
	/* Not under QEMU's isa-debug-exit: PID 1 exiting panics the kernel,
	 * which `panic=1` with `-no-reboot` turns into QEMU's exit. */
	exit(pass ? 0 : 1);
}

static void fail(const char *what, uint64_t at)
{
	printf("blkbench: %s at byte %llu: %s\n", what, (unsigned long long)at,
	       strerror(errno));
	qemu_exit(0);
}

static void report(const char *name, double value, const char *unit)
{
	printf("bench: %s %.1f %s\n", name, value, unit);
	fflush(stdout);
}

/* 10^6 bytes per second. */
static double mb_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / 1e6 / ((double)ns / 1e9) : 0.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Fastest and median of n samples (sorted in place), as the kernel's. */
static void best_and_median(uint64_t *s, size_t n, uint64_t *best, uint64_t *med)
{
	qsort(s, n, sizeof *s, cmp_u64);
	*best = n ? s[0] : 0;
	*med = n ? s[n / 2] : 0;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Waits up to 30 s for the device node (the driver binds asynchronously). */
static void wait_for(const char *dev)
{
	struct stat st;
	for (int i = 0; i < 30000; i++) {
		if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode)) {
			printf("blkbench: %s ready\n", dev);
			fflush(stdout);
			return;
		}
		usleep(1000);
	}
	errno = ENODEV;
	fail("waiting for the device", 0);
}

static long aio(long nr, long a, long b, long c, long d)
{
	return syscall(nr, a, b, c, d, 0);
}

/* The same 4 KiB random reads, handed to the kernel `qd` at a time (one
 * io_submit) and each batch waited for whole, as the kernel's `read_many`. */
static void rand_read_qd(int fd, uint64_t slots, unsigned qd, uint8_t *bufs)
{
	aio_context_t ctx = 0;
	struct iocb cbs[MAX_QD], *ptrs[MAX_QD];
	struct io_event ev[MAX_QD];
	uint64_t x = SEED, done = 0;
	if (aio(SYS_io_setup, qd, (long)&ctx, 0, 0) < 0)
		fail("io_setup", 0);
	uint64_t t0 = now_ns();
	while (done < RAND_OPS) {
		long n = RAND_OPS - done < qd ? (long)(RAND_OPS - done) : (long)qd;
		for (long i = 0; i < n; i++) {
			memset(&cbs[i], 0, sizeof cbs[i]);
			cbs[i].aio_data = (uint64_t)i;
			cbs[i].aio_fildes = (uint32_t)fd;
			cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
			cbs[i].aio_buf = (uint64_t)(uintptr_t)(bufs + (size_t)i * RAND_SIZE);
			cbs[i].aio_nbytes = RAND_SIZE;
			cbs[i].aio_offset = (int64_t)((xorshift(&x) % slots) * RAND_SIZE);
			ptrs[i] = &cbs[i];
		}
		if (aio(SYS_io_submit, (long)ctx, n, (long)ptrs, 0) != n)
			fail("io_submit", 0);
		long got = 0;
		while (got < n) {
			long r = aio(SYS_io_getevents, (long)ctx, n - got, n - got, (long)ev);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				fail("io_getevents", 0);
			for (long e = 0; e < r; e++) {
				if (ev[e].res != RAND_SIZE) {
					uint64_t i = ev[e].data;
					errno = ev[e].res < 0 ? (int)-ev[e].res : EIO;
					fail("random read (aio)", i < (uint64_t)n ? (uint64_t)cbs[i].aio_offset : 0);
				}
			}
			got += r;
		}
		done += (uint64_t)n;
	}
	uint64_t ns = now_ns() - t0;
	aio(SYS_io_destroy, (long)ctx, 0, 0, 0);
	char name[64];
	snprintf(name, sizeof name, "blk-rand-read-4k-qd%u", qd);
	report(name, (double)RAND_OPS * 1e9 / (double)ns, "IOPS");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: blkbench DEVICE [boot | bench [QD...]]\n");
		qemu_exit(0);
	}
	const char *dev = argv[1];
	int boot_only = argc > 2 && strcmp(argv[2], "boot") == 0;
	wait_for(dev);
	if (boot_only)
		qemu_exit(1);

	int fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0)
		fail("open", 0);
	uint64_t size = 0;
	if (ioctl(fd, BLKGETSIZE64, &size) != 0)
		fail("BLKGETSIZE64", 0);
	uint64_t span = (size < SEQ_SPAN ? size : SEQ_SPAN) / CHUNK * CHUNK;
	uint64_t slots = size / RAND_SIZE;
	if (span == 0 || slots == 0) {
		errno = ENOSPC;
		fail("device too small for 1 MiB requests", size);
	}
	unsigned qds[MAX_QD], nqd = 0;
	char qd_list[256] = "";
	for (int i = 3; i < argc && nqd < MAX_QD; i++) {
		char *end;
		unsigned long qd = strtoul(argv[i], &end, 10);
		if (*end || qd < 1 || qd > MAX_QD) {
			printf("blkbench: queue depth '%s' is not 1..%d\n", argv[i], MAX_QD);
			qemu_exit(0);
		}
		qds[nqd++] = (unsigned)qd;
		snprintf(qd_list + strlen(qd_list), sizeof qd_list - strlen(qd_list), "%s%lu",
			 nqd > 1 ? "," : "", qd);
	}
	printf("bench-config: chunk %u seq-span %llu seq-passes %d rand-size %u "
	       "rand-ops %d rand-slots %llu seed %#llx qd %s\n",
	       CHUNK, (unsigned long long)span, SEQ_PASSES, RAND_SIZE, RAND_OPS,
	       (unsigned long long)slots, SEED, qd_list);

	uint8_t *buf;
	if (posix_memalign((void **)&buf, 4096, CHUNK) != 0)
		fail("posix_memalign", 0);
	size_t nreads = (size_t)(span / CHUNK) * SEQ_PASSES;
	uint64_t *per = malloc(sizeof *per * (nreads > RAND_OPS ? nreads : RAND_OPS));
	if (!per)
		fail("malloc", 0);

	/* Sequential read. */
	uint64_t read_ns = 0, k = 0;
	for (int pass = 0; pass < SEQ_PASSES; pass++) {
		uint64_t t0 = now_ns();
		for (uint64_t off = 0; off < span; off += CHUNK) {
			uint64_t t = now_ns();
			if (pread(fd, buf, CHUNK, (off_t)off) != CHUNK)
				fail("seq read", off);
			per[k++] = now_ns() - t;
		}
		read_ns += now_ns() - t0;
	}
	uint64_t best, med;
	report("blk-seq-read", mb_per_s(span * SEQ_PASSES, read_ns), "MB/s");
	best_and_median(per, k, &best, &med);
	report("blk-seq-read-best", mb_per_s(CHUNK, best), "MB/s");
	report("blk-seq-read-p50", mb_per_s(CHUNK, med), "MB/s");

	/* Sequential write of the bytes just read (content preserved). */
	uint64_t write_ns = 0;
	for (int pass = 0; pass < SEQ_PASSES; pass++) {
		for (uint64_t off = 0; off < span; off += CHUNK) {
			if (pread(fd, buf, CHUNK, (off_t)off) != CHUNK)
				fail("read before write", off);
			uint64_t t = now_ns();
			if (pwrite(fd, buf, CHUNK, (off_t)off) != CHUNK)
				fail("seq write", off);
			write_ns += now_ns() - t;
		}
		uint64_t t = now_ns();
		if (fsync(fd) != 0)
			fail("flush (fsync)", 0);
		write_ns += now_ns() - t;
	}
	report("blk-seq-write", mb_per_s(span * SEQ_PASSES, write_ns), "MB/s");

	/* 4 KiB random reads, one at a time. */
	uint64_t x = SEED;
	uint64_t t0 = now_ns();
	for (int i = 0; i < RAND_OPS; i++) {
		uint64_t off = (xorshift(&x) % slots) * RAND_SIZE;
		uint64_t t = now_ns();
		if (pread(fd, buf, RAND_SIZE, (off_t)off) != RAND_SIZE)
			fail("random read", off);
		per[i] = now_ns() - t;
	}
	uint64_t ns = now_ns() - t0;
	report("blk-rand-read-4k-qd1", (double)RAND_OPS * 1e9 / (double)ns, "IOPS");
	best_and_median(per, RAND_OPS, &best, &med);
	report("blk-rand-read-4k-best", (double)best / 1e3, "us");
	report("blk-rand-read-4k-p50", (double)med / 1e3, "us");

	/* Queue depths beyond 1, through Linux AIO. */
	uint8_t *bufs;
	if (posix_memalign((void **)&bufs, 4096, (size_t)MAX_QD * RAND_SIZE) != 0)
		fail("posix_memalign", 0);
	for (unsigned i = 0; i < nqd; i++)
		rand_read_qd(fd, slots, qds[i], bufs);
	printf("blkbench: done\n");
	qemu_exit(1);
}
