// basic.cs: test_N_name programs (each method must return N) over arithmetic,
// control flow, arrays and strings, written as a typical runtime test file.
using System;

class Tests
{
    static int Main(string[] args)
    {
        // Only reached under a real runtime; cilrun invokes the tests one by one.
        int failed = 0;
        if (test_0_return_zero() != 0) failed++;
        if (test_42_add() != 42) failed++;
        return failed;
    }

    public static int test_0_return_zero() { return 0; }
    public static int test_42_add() { int a = 40; int b = 2; return a + b; }
    public static int test_7_sub_neg() { int a = -3; return 4 - a; }
    public static int test_3_div() { int a = 10; return a / 3; }
    public static int test_1_rem() { int a = 10; return a % 3; }
    public static int test_255_byte_wrap() { byte b = 254; b++; return b; }
    public static int test_0_byte_overflow_wrap() { byte b = 255; b++; return b; }
    public static int test_1_long_compare() { long a = 1L << 40; long b = 1L << 39; return a > b ? 1 : 0; }
    public static int test_10_for_loop() { int s = 0; for (int i = 0; i < 10; i++) s++; return s; }
    public static int test_45_while_sum() { int s = 0, i = 0; while (i < 10) { s += i; i++; } return s; }
    public static int test_120_factorial() { int r = 1; for (int i = 2; i <= 5; i++) r *= i; return r; }
    public static int test_55_fib_iter() { int a = 0, b = 1; for (int i = 0; i < 10; i++) { int t = a + b; a = b; b = t; } return a; }
    public static int test_89_fib_rec() { return fib(11); }
    static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
    public static int test_2_switch() { int x = 5; switch (x) { case 1: return 1; case 5: return 2; default: return 3; } }
    public static int test_3_switch_default() { int x = 99; switch (x) { case 1: return 1; case 5: return 2; default: return 3; } }
    public static int test_5_string_length() { return "hello".Length; }
    public static int test_101_string_char() { return "hello"[1]; }
    public static int test_15_array_sum() { int[] a = new int[] { 1, 2, 3, 4, 5 }; int s = 0; for (int i = 0; i < a.Length; i++) s += a[i]; return s; }
    public static int test_4_array_length() { long[] a = new long[4]; return a.Length; }
    public static int test_1_shift_right_unsigned() { uint x = 0x80000000; return (int)(x >> 31); }
    public static int test_16_shift_left() { return 1 << 4; }
    public static int test_0_double_compare() { double a = 0.1 + 0.2; return a == 0.3 ? 1 : 0; }
    public static int test_3_double_to_int() { double d = 3.75; return (int)d; }
    public static int test_1_bool_logic() { bool a = true, b = false; return (a && !b) ? 1 : 0; }
    public static int test_6_nested_loops() { int c = 0; for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) c++; return c; }
    public static int test_100_checked_ok() { int a = 50; return checked(a * 2); }
    public static int test_2_char_arith() { char c = 'c'; return c - 'a'; }
    public static int test_64_long_shift_back() { long v = 1L << 63; return (int)((ulong)v >> 57); }
    public static int test_9_ternary_chain() { int x = 9; return x > 10 ? 10 : x < 0 ? 0 : x; }
}
