/*
 * test.h - the unit-test harness: a test binary is a list of functions
 * that use CHECK*; it prints one TAP line per test ("ok 3 - name" or
 * "not ok 3 - name") with the failing checks before it, and a closing
 * "N passed, N failed".  tests/run adds up the lines of every binary.
 */
#ifndef ATOLL_TEST_H
#define ATOLL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int test_failed_checks;

#define CHECK(e)                                                                                   \
	do {                                                                                       \
		if (!(e)) {                                                                        \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #e);           \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			printf("#   %s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", __FILE__,     \
			       __LINE__, #a, #b, a_, b_);                                          \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)
#define TEST_ENTRY(name)                                                                           \
	{                                                                                          \
#name, name                                                                        \
	}

int test_main(const struct test_case *cases, unsigned n);

#define TEST_MAIN(...)                                                                             \
	static const struct test_case test_cases_[] = {__VA_ARGS__};                               \
	int main(void)                                                                             \
	{                                                                                          \
		return test_main(test_cases_, sizeof test_cases_ / sizeof test_cases_[0]);         \
	}

#endif
