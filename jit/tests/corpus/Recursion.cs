// Recursion.cs: direct and mutual recursion, recursion with many arguments and
// struct arguments, deep (10,000-frame) recursion.
using System;

namespace Corpus
{
    public static class Recursion
    {
        static int Fib(int n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); }
        static long Fact(long n) { return n <= 1 ? 1 : n * Fact(n - 1); }
        static bool IsEven(int n) { return n == 0 ? true : IsOdd(n - 1); }
        static bool IsOdd(int n) { return n == 0 ? false : IsEven(n - 1); }
        static int Ackermann(int m, int n)
        {
            if (m == 0) return n + 1;
            if (n == 0) return Ackermann(m - 1, 1);
            return Ackermann(m - 1, Ackermann(m, n - 1));
        }
        static int Depth(int n) { return n == 0 ? 0 : 1 + Depth(n - 1); }
        static long SumArgs(int n, long a, long b, long c, long d, long e, long f, long g)
        {
            if (n == 0) return a + b + c + d + e + f + g;
            return SumArgs(n - 1, b, c, d, e, f, g, a + 1);
        }
        static long StructRec(S24 s, int n)
        {
            if (n == 0) return s.A + s.B + s.C + s.D;
            s.A += 1; s.D -= 1; s.B += n;
            return StructRec(s, n - 1) + s.C;
        }
        static int Gcd(int a, int b) { return b == 0 ? a : Gcd(b, a % b); }
        static int Hanoi(int n, int from, int to, int via)
        {
            if (n == 0) return 0;
            return Hanoi(n - 1, from, via, to) + 1 + Hanoi(n - 1, via, to, from);
        }
        static int BinarySearch(int[] a, int key, int lo, int hi)
        {
            if (lo > hi) return -1;
            int mid = (lo + hi) / 2;
            if (a[mid] == key) return mid;
            return a[mid] < key ? BinarySearch(a, key, mid + 1, hi) : BinarySearch(a, key, lo, mid - 1);
        }

        [Expect("6765")] public static int Fib20() { return Fib(20); }
        [Expect("0")] public static int Fib0() { return Fib(0); }
        [Expect("2432902008176640000")] public static long Factorial20() { return Fact(20); }
        [Expect("1")] public static bool MutualEven() { return IsEven(1000); }
        [Expect("0")] public static bool MutualOdd() { return IsOdd(1000); }
        [Expect("70")] public static int Ackermann23() { return Ackermann(2, 3) + Ackermann(3, 3); }
        [Expect("10000")] public static int DeepRecursion() { return Depth(10000); }
        [Expect("28")] public static long RecursionSevenArgs() { return SumArgs(7, 0, 1, 2, 3, 4, 5, 6); }
        [Expect("25")]
        public static long RecursionWithStructArg()
        {
            S24 s; s.A = 1; s.B = 2; s.C = 3; s.D = 4;
            // base: A=1+3, B=2+6, C=3, D=4-3 -> 16; plus C=3 at 3 levels
            return StructRec(s, 3);
        }
        [Expect("21")] public static int Gcd() { return Gcd(462, 1071); }
        [Expect("1023")] public static int Hanoi10() { return Hanoi(10, 1, 3, 2); }
        [Expect("73")]
        public static int RecursiveBinarySearch()
        {
            int[] a = new int[100];
            for (int i = 0; i < 100; i++) a[i] = i * 3;
            return BinarySearch(a, 219, 0, 99);
        }
        [Expect("-1")]
        public static int RecursiveBinarySearchMissing()
        {
            int[] a = new int[100];
            for (int i = 0; i < 100; i++) a[i] = i * 3;
            return BinarySearch(a, 220, 0, 99);
        }
    }
}
