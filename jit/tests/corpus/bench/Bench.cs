// Bench.cs: the three JIT benchmark kernels (issue 5): recursive Fib(30), a sieve of
// Eratosthenes to 10,000,000 over byte[], and table-driven CRC-32 (IEEE 802.3,
// reflected polynomial 0xEDB88320) over 16 MiB of deterministic LCG data.
// Each Bench* method is static and parameterless, so `cilrun Bench.dll --invoke-all
// 'Bench*'` runs it; each does all of its own work (data generation included), exactly
// like the Rust twins in native.rs. Compile with -define:MONO_MAIN for the mono timing
// Main (median of 5 runs after a warm-up: wall and CPU ms); without it the file only needs our corlib.
namespace Corpus.Bench
{
    public static class Kernels
    {
        public const int SieveLimit = 10000000;
        public const int CrcBytes = 16 * 1024 * 1024;

        public static int Fib(int n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); }

        /// Number of primes <= limit.
        public static int Sieve(int limit)
        {
            byte[] composite = new byte[limit + 1];
            int count = 0;
            for (int i = 2; i <= limit; i++)
            {
                if (composite[i] != 0) continue;
                count++;
                if ((long)i * i > limit) continue;
                for (int j = i * i; j <= limit; j += i) composite[j] = 1;
            }
            return count;
        }

        /// n bytes from the LCG x = x * 1664525 + 1013904223 (x0 = 1), top byte each step.
        public static byte[] MakeData(int n)
        {
            byte[] data = new byte[n];
            uint x = 1;
            for (int i = 0; i < n; i++)
            {
                x = x * 1664525 + 1013904223;
                data[i] = (byte)(x >> 24);
            }
            return data;
        }

        public static uint Crc32(byte[] data)
        {
            uint[] table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
                table[i] = c;
            }
            uint crc = 0xFFFFFFFF;
            for (int i = 0; i < data.Length; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
            return crc ^ 0xFFFFFFFF;
        }

        public static int BenchFib30() { return Fib(30); }                        // 832040
        public static int BenchSieve() { return Sieve(SieveLimit); }              // 664579
        public static uint BenchCrc32() { return Crc32(MakeData(CrcBytes)); }     // see native.rs

#if MONO_MAIN
        delegate long Kernel();

        /// Median wall-clock and process-CPU milliseconds of 5 runs after a warm-up.
        /// CPU time is steadier than wall time on a machine shared with other work.
        static double MedianMs(Kernel k, out long result, out double cpuMs)
        {
            double[] ms = new double[5], cpu = new double[5];
            var self = System.Diagnostics.Process.GetCurrentProcess();
            result = k();                                        // warm-up: JIT compile
            for (int r = 0; r < ms.Length; r++)
            {
                self.Refresh();
                var c0 = self.TotalProcessorTime;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                long v = k();
                ms[r] = sw.Elapsed.TotalMilliseconds;
                self.Refresh();
                cpu[r] = (self.TotalProcessorTime - c0).TotalMilliseconds;
                if (v != result) throw new System.Exception("kernel is not deterministic");
            }
            System.Array.Sort(ms);
            System.Array.Sort(cpu);
            cpuMs = cpu[cpu.Length / 2];
            return ms[ms.Length / 2];
        }

        public static void Main()
        {
            long r;
            double cpu;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            double t = MedianMs(() => BenchFib30(), out r, out cpu);
            System.Console.WriteLine("fib30  result={0} median_ms={1} cpu_ms={2}", r, t.ToString("F2", inv), cpu.ToString("F2", inv));
            t = MedianMs(() => BenchSieve(), out r, out cpu);
            System.Console.WriteLine("sieve  result={0} median_ms={1} cpu_ms={2}", r, t.ToString("F2", inv), cpu.ToString("F2", inv));
            t = MedianMs(() => BenchCrc32(), out r, out cpu);
            System.Console.WriteLine("crc32  result={0} median_ms={1} cpu_ms={2}", r, t.ToString("F2", inv), cpu.ToString("F2", inv));
        }
#endif
    }
}
