// System.Decimal: a 96-bit integer mantissa with a sign and a power-of-ten scale
// (0..28), in .NET's field layout. Construction, conversion from integers,
// equality and ordering; no arithmetic.
namespace System
{
    public struct Decimal : IComparable, IEquatable<decimal>
    {
        const int SignMask = unchecked((int)0x80000000);
        internal int flags;
        internal int hi;
        internal int lo;
        internal int mid;

        public Decimal(int value) : this((long)value) { }
        public Decimal(uint value) : this((ulong)value) { }
        public Decimal(long value)
        {
            ulong m = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;
            lo = (int)m; mid = (int)(m >> 32); hi = 0;
            flags = value < 0 ? SignMask : 0;
        }
        public Decimal(ulong value) { lo = (int)value; mid = (int)(value >> 32); hi = 0; flags = 0; }
        public Decimal(int lo, int mid, int hi, bool isNegative, byte scale)
        {
            if (scale > 28) throw new ArgumentOutOfRangeException("scale");
            this.lo = lo; this.mid = mid; this.hi = hi;
            flags = (scale << 16) | (isNegative ? SignMask : 0);
        }

        public static implicit operator decimal(int value) { return new decimal(value); }
        public static implicit operator decimal(uint value) { return new decimal(value); }
        public static implicit operator decimal(long value) { return new decimal(value); }
        public static implicit operator decimal(ulong value) { return new decimal(value); }

        bool IsZero { get { return lo == 0 && mid == 0 && hi == 0; } }
        int Scale { get { return (flags >> 16) & 0xff; } }

        // mantissa * 10 in place; false when it no longer fits in 96 bits.
        static bool Times10(ref uint l, ref uint m, ref uint h)
        {
            ulong c = (ulong)l * 10; l = (uint)c;
            c = (ulong)m * 10 + (c >> 32); m = (uint)c;
            c = (ulong)h * 10 + (c >> 32); h = (uint)c;
            return (c >> 32) == 0;
        }

        // Compares |a| and |b|.
        static int CompareMagnitude(decimal a, decimal b)
        {
            uint al = (uint)a.lo, am = (uint)a.mid, ah = (uint)a.hi;
            uint bl = (uint)b.lo, bm = (uint)b.mid, bh = (uint)b.hi;
            int sa = a.Scale, sb = b.Scale;
            for (; sa < sb; sa++) if (!Times10(ref al, ref am, ref ah)) return 1;
            for (; sb < sa; sb++) if (!Times10(ref bl, ref bm, ref bh)) return -1;
            if (ah != bh) return ah < bh ? -1 : 1;
            if (am != bm) return am < bm ? -1 : 1;
            if (al != bl) return al < bl ? -1 : 1;
            return 0;
        }

        public static int Compare(decimal a, decimal b)
        {
            bool na = (a.flags & SignMask) != 0 && !a.IsZero, nb = (b.flags & SignMask) != 0 && !b.IsZero;
            if (na != nb) return na ? -1 : 1;
            int c = CompareMagnitude(a, b);
            return na ? -c : c;
        }

        public static bool operator ==(decimal a, decimal b) { return Compare(a, b) == 0; }
        public static bool operator !=(decimal a, decimal b) { return Compare(a, b) != 0; }
        public static bool operator <(decimal a, decimal b) { return Compare(a, b) < 0; }
        public static bool operator >(decimal a, decimal b) { return Compare(a, b) > 0; }
        public static bool operator <=(decimal a, decimal b) { return Compare(a, b) <= 0; }
        public static bool operator >=(decimal a, decimal b) { return Compare(a, b) >= 0; }

        public bool Equals(decimal value) { return Compare(this, value) == 0; }
        public override bool Equals(object value) { return value is decimal && Compare(this, (decimal)value) == 0; }
        public int CompareTo(object value)
        {
            if (value == null) return 1;
            if (!(value is decimal)) throw new ArgumentException("Object must be of type Decimal.");
            return Compare(this, (decimal)value);
        }
        // Equal values hash alike: trailing zeros of the scale are dropped first.
        public override int GetHashCode()
        {
            uint l = (uint)lo, m = (uint)mid, h = (uint)hi;
            int s = Scale;
            while (s > 0)
            {
                ulong r = h; uint qh = (uint)(r / 10); r = ((r % 10) << 32) | m;
                uint qm = (uint)(r / 10); r = ((r % 10) << 32) | l;
                uint ql = (uint)(r / 10);
                if (r % 10 != 0) break;
                l = ql; m = qm; h = qh; s--;
            }
            int hash = (int)(l ^ m ^ h) ^ (s << 16);
            return (flags & SignMask) != 0 && (l | m | h) != 0 ? ~hash : hash;
        }
    }
}
