// Runner.cs: the mono twin of `cilrun ASSEMBLY [--lib DIR]... --invoke-all PATTERN`.
//
// Loads an assembly by path through reflection, invokes every static parameterless
// method whose name matches the glob, and prints one line per method in exactly the
// format cilrun uses (see ../corpus/README.md):
//     Namespace.Type::Method = <result>
//     Namespace.Type::Method ! <error-kind>
// `Runner.exe ASSEMBLY --expectations` instead prints the [Expect]/[ExpectError]
// attribute of every such method ("= value" / "! kind"), read by reflection, so the
// cargo test can check that its source-text parser sees the same expectations.
// Build: mcs -r:System.Numerics.dll -out:Runner.exe Runner.cs ; run: mono Runner.exe ...
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Numerics;
using System.Reflection;
using System.Text;

public static class Runner
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    static readonly List<string> LibDirs = new List<string>();

    public static int Main(string[] args)
    {
        string path = null, pattern = null;
        bool expectations = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--lib" && i + 1 < args.Length) LibDirs.Add(args[++i]);
            else if (args[i] == "--invoke-all" && i + 1 < args.Length) pattern = args[++i];
            else if (args[i] == "--expectations") expectations = true;
            else if (path == null && !args[i].StartsWith("--")) path = args[i];
            else { Console.Error.WriteLine("runner: unexpected argument `" + args[i] + "`"); return 2; }
        }
        if (path == null || (pattern == null && !expectations))
        {
            Console.Error.WriteLine("usage: mono Runner.exe ASSEMBLY [--lib DIR]... (--invoke-all PATTERN | --expectations)");
            return 2;
        }
        AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        Assembly asm;
        try { asm = Assembly.LoadFrom(Path.GetFullPath(path)); }
        catch (Exception e) { Console.Error.WriteLine("runner: cannot load " + path + ": " + e.Message); return 2; }

        foreach (MethodInfo m in Methods(asm))
        {
            string name = QualifiedName(m);
            if (expectations) { PrintExpectation(m, name); continue; }
            if (!Glob(pattern, pattern.Contains("::") ? name : m.Name)) continue;
            Console.WriteLine(name + " " + Invoke(m));
            Console.Out.Flush();
        }
        return 0;
    }

    static Assembly Resolve(object sender, ResolveEventArgs e)
    {
        string simple = new AssemblyName(e.Name).Name;
        foreach (string dir in LibDirs)
        {
            string p = Path.Combine(dir, simple + ".dll");
            if (File.Exists(p)) return Assembly.LoadFrom(p);
        }
        return null;
    }

    /// Static, parameterless, non-special, non-generic methods in metadata order.
    static List<MethodInfo> Methods(Assembly asm)
    {
        Type[] types;
        try { types = asm.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types; }
        var list = new List<MethodInfo>();
        foreach (Type t in types)
        {
            if (t == null || t.IsGenericTypeDefinition) continue;
            foreach (MethodInfo m in t.GetMethods(BindingFlags.Static | BindingFlags.Public |
                                                  BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (m.IsSpecialName || m.IsGenericMethodDefinition || m.GetParameters().Length != 0) continue;
                list.Add(m);
            }
        }
        list.Sort((a, b) => a.MetadataToken.CompareTo(b.MetadataToken));
        return list;
    }

    static string QualifiedName(MethodInfo m)
    {
        return m.DeclaringType.FullName.Replace('+', '/') + "::" + m.Name;
    }

    static void PrintExpectation(MethodInfo m, string name)
    {
        foreach (object a in m.GetCustomAttributes(false))
        {
            Type t = a.GetType();
            if (t.Name == "ExpectAttribute")
                Console.WriteLine(name + " = " + t.GetField("Value").GetValue(a));
            else if (t.Name == "ExpectErrorAttribute")
                Console.WriteLine(name + " ! " + t.GetField("Kind").GetValue(a));
        }
    }

    static string Invoke(MethodInfo m)
    {
        object r;
        try { r = m.Invoke(null, null); }
        catch (TargetInvocationException e) { return "! " + ErrorKind(e.InnerException); }
        catch (Exception e) { return "! " + ErrorKind(e); }
        return Format(m.ReturnType, r);
    }

    /// The runtime error names shared with cilrun.
    public static string ErrorKind(Exception e)
    {
        if (e is OverflowException) return "overflow";
        if (e is DivideByZeroException) return "divide-by-zero";
        if (e is NullReferenceException) return "null-reference";
        if (e is IndexOutOfRangeException) return "index-out-of-range";
        if (e is InvalidCastException) return "invalid-cast";
        if (e is ArithmeticException) return "arithmetic";          // ckfinite
        if (e is ArrayTypeMismatchException) return "array-type-mismatch";
        if (e is OutOfMemoryException) return "out-of-memory";
        if (e is TypeInitializationException && e.InnerException != null)
            return "type-initializer " + ErrorKind(e.InnerException);
        return "exception " + e.GetType().FullName;
    }

    /// The print format of a return value (README.md, "Print format").
    public static string Format(Type t, object r)
    {
        if (t == typeof(void)) return "= void";
        if (t == typeof(bool)) return "= " + ((bool)r ? "1" : "0");
        if (t == typeof(char)) return "= " + ((int)(char)r).ToString(Inv);
        if (t == typeof(float)) return "= " + FormatFloat((float)r);
        if (t == typeof(double)) return "= " + FormatDouble((double)r);
        if (t == typeof(IntPtr)) return "= " + ((IntPtr)r).ToInt64().ToString(Inv);
        if (t == typeof(UIntPtr)) return "= " + ((UIntPtr)r).ToUInt64().ToString(Inv);
        if (t.IsPrimitive) return "= " + ((IFormattable)r).ToString(null, Inv);
        if (t.IsEnum) return "= " + Convert.ToInt64(r).ToString(Inv);
        return "! unsupported-return " + t.FullName;
    }

    // Floats print like Rust's `Display` for f64/f32: the shortest decimal that reads
    // back to the same value (the closest one if several), never in exponent form;
    // "NaN", "inf", "-inf", "-0". Computed exactly with BigInteger, because mono's own
    // 16/17-digit formatting is not always correctly rounded.
    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        long bits = BitConverter.DoubleToInt64Bits(d);
        int be = (int)((bits >> 52) & 0x7FF);
        long frac = bits & 0xFFFFFFFFFFFFFL;
        string sign = bits < 0 ? "-" : "";
        if (be == 0 && frac == 0) return sign + "0";
        long f = be == 0 ? frac : frac | (1L << 52);
        int e = be == 0 ? -1074 : be - 1075;
        return sign + Shortest(f, e, frac == 0 && be > 1, 17);
    }

    public static string FormatFloat(float x)
    {
        if (float.IsNaN(x)) return "NaN";
        if (float.IsPositiveInfinity(x)) return "inf";
        if (float.IsNegativeInfinity(x)) return "-inf";
        int bits = BitConverter.ToInt32(BitConverter.GetBytes(x), 0);
        int be = (bits >> 23) & 0xFF;
        int frac = bits & 0x7FFFFF;
        string sign = bits < 0 ? "-" : "";
        if (be == 0 && frac == 0) return sign + "0";
        long f = be == 0 ? frac : frac | (1 << 23);
        int e = be == 0 ? -149 : be - 150;
        return sign + Shortest(f, e, frac == 0 && be > 1, 9);
    }

    static BigInteger Pow(int b, int n) { return BigInteger.Pow(new BigInteger(b), n); }

    /// Shortest decimal m·10^q inside the rounding interval of f·2^e.
    /// `narrowBelow`: the gap to the next smaller float is half the gap above.
    static string Shortest(long f, int e, bool narrowBelow, int maxDigits)
    {
        // Work in units of 2^(e-2): v = 4f, half-gaps 2 above and 2 (or 1) below.
        BigInteger V = new BigInteger(f) * 4;
        BigInteger b1 = e - 2 >= 0 ? Pow(2, e - 2) : BigInteger.One;
        BigInteger b2 = e - 2 < 0 ? Pow(2, 2 - e) : BigInteger.One;
        int gapBelow = narrowBelow ? 1 : 2, gapAbove = 2;
        bool inclusive = (f & 1) == 0;   // round-half-even parsing reaches the bounds
        int k = (int)Math.Floor(Math.Log10((double)f) + e * Math.Log10(2.0));
        // Fix k exactly: 10^k <= v < 10^(k+1), with v = V*b1/b2.
        while (Cmp(V * b1, b2, k + 1) >= 0) k++;
        while (Cmp(V * b1, b2, k) < 0) k--;
        for (int p = 1; p <= maxDigits; p++)
        {
            int q = k - p + 1;
            // v / 10^q = num / den
            BigInteger num = V * b1 * (q < 0 ? Pow(10, -q) : BigInteger.One);
            BigInteger den = b2 * (q > 0 ? Pow(10, q) : BigInteger.One);
            BigInteger rem;
            BigInteger lo = BigInteger.DivRem(num, den, out rem);
            BigInteger hi = lo + 1;
            int c = BigInteger.Compare(rem * 2, den);
            BigInteger first = c < 0 ? lo : hi;   // ties go up, as Rust does
            BigInteger second = first == lo ? hi : lo;
            foreach (BigInteger m in new[] { first, second })
            {
                // |m*10^q - v| vs gap * 2^(e-2), all scaled by den.
                BigInteger diff = m * den - num;        // sign: above (+) or below (-)
                int gap = diff.Sign >= 0 ? gapAbove : gapBelow;
                BigInteger lhs = BigInteger.Abs(diff) * b2 * (q > 0 ? Pow(10, q) : BigInteger.One);
                BigInteger rhs = new BigInteger(gap) * b1 * den * (q < 0 ? Pow(10, -q) : BigInteger.One);
                int t = BigInteger.Compare(lhs, rhs);
                if (t < 0 || (t == 0 && inclusive)) return Place(m.ToString(CultureInfo.InvariantCulture), q);
            }
        }
        return "?";
    }

    /// Compares x/y with 10^n.
    static int Cmp(BigInteger x, BigInteger y, int n)
    {
        return n >= 0 ? BigInteger.Compare(x, y * Pow(10, n)) : BigInteger.Compare(x * Pow(10, -n), y);
    }

    /// digits·10^q in plain decimal notation.
    static string Place(string digits, int q)
    {
        int z = 0;
        while (z < digits.Length - 1 && digits[digits.Length - 1 - z] == '0') z++;
        digits = digits.Substring(0, digits.Length - z);
        q += z;
        if (q >= 0) return digits + new string('0', q);
        int point = digits.Length + q;   // digits before the decimal point
        if (point > 0) return digits.Substring(0, point) + "." + digits.Substring(point);
        return "0." + new string('0', -point) + digits;
    }

    /// Glob with `*` (any run) and `?` (any one character).
    public static bool Glob(string pat, string s)
    {
        int p = 0, i = 0, star = -1, mark = 0;
        while (i < s.Length)
        {
            if (p < pat.Length && (pat[p] == '?' || pat[p] == s[i])) { p++; i++; }
            else if (p < pat.Length && pat[p] == '*') { star = p++; mark = i; }
            else if (star >= 0) { p = star + 1; i = ++mark; }
            else return false;
        }
        while (p < pat.Length && pat[p] == '*') p++;
        return p == pat.Length;
    }
}
