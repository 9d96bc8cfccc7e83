// System.TimeSpan (a count of 100 ns ticks) and
// System.Collections.Generic.SortedList<TKey, TValue> (keys kept sorted in an
// array, found by binary search with the key comparer).
namespace System
{
    public struct TimeSpan : IComparable, IComparable<TimeSpan>, IEquatable<TimeSpan>
    {
        public const long TicksPerMillisecond = 10000;
        public const long TicksPerSecond = 10000000;
        public const long TicksPerMinute = 600000000;
        public const long TicksPerHour = 36000000000;
        public const long TicksPerDay = 864000000000;
        public static readonly TimeSpan Zero = new TimeSpan(0);
        public static readonly TimeSpan MaxValue = new TimeSpan(long.MaxValue);
        public static readonly TimeSpan MinValue = new TimeSpan(long.MinValue);

        readonly long ticks;
        public TimeSpan(long ticks) { this.ticks = ticks; }
        public TimeSpan(int hours, int minutes, int seconds) : this(0, hours, minutes, seconds, 0) { }
        public TimeSpan(int days, int hours, int minutes, int seconds) : this(days, hours, minutes, seconds, 0) { }
        public TimeSpan(int days, int hours, int minutes, int seconds, int milliseconds)
        {
            ticks = checked(((((long)days * 24 + hours) * 60 + minutes) * 60 + seconds) * TicksPerSecond + milliseconds * TicksPerMillisecond);
        }

        public long Ticks { get { return ticks; } }
        public int Days { get { return (int)(ticks / TicksPerDay); } }
        public int Hours { get { return (int)(ticks / TicksPerHour % 24); } }
        public int Minutes { get { return (int)(ticks / TicksPerMinute % 60); } }
        public int Seconds { get { return (int)(ticks / TicksPerSecond % 60); } }
        public int Milliseconds { get { return (int)(ticks / TicksPerMillisecond % 1000); } }
        public double TotalDays { get { return (double)ticks / TicksPerDay; } }
        public double TotalHours { get { return (double)ticks / TicksPerHour; } }
        public double TotalMinutes { get { return (double)ticks / TicksPerMinute; } }
        public double TotalSeconds { get { return (double)ticks / TicksPerSecond; } }
        public double TotalMilliseconds { get { return (double)ticks / TicksPerMillisecond; } }

        public static TimeSpan FromTicks(long value) { return new TimeSpan(value); }
        public static TimeSpan FromMilliseconds(double value) { return Interval(value, TicksPerMillisecond); }
        public static TimeSpan FromSeconds(double value) { return Interval(value, TicksPerSecond); }
        public static TimeSpan FromMinutes(double value) { return Interval(value, TicksPerMinute); }
        public static TimeSpan FromHours(double value) { return Interval(value, TicksPerHour); }
        public static TimeSpan FromDays(double value) { return Interval(value, TicksPerDay); }
        // Rounded to the nearest millisecond, as .NET Framework does.
        static TimeSpan Interval(double value, long scale)
        {
            if (double.IsNaN(value)) throw new ArgumentException("TimeSpan does not accept floating point Not-a-Number values.");
            double ms = value * (scale / TicksPerMillisecond);
            ms += ms >= 0 ? 0.5 : -0.5;
            if (ms > long.MaxValue / TicksPerMillisecond || ms < long.MinValue / TicksPerMillisecond)
                throw new OverflowException("TimeSpan overflowed because the duration is too long.");
            return new TimeSpan((long)ms * TicksPerMillisecond);
        }

        public TimeSpan Add(TimeSpan ts) { return new TimeSpan(checked(ticks + ts.ticks)); }
        public TimeSpan Subtract(TimeSpan ts) { return new TimeSpan(checked(ticks - ts.ticks)); }
        public TimeSpan Negate() { return new TimeSpan(checked(-ticks)); }
        public TimeSpan Duration() { return new TimeSpan(ticks < 0 ? checked(-ticks) : ticks); }
        public static TimeSpan operator +(TimeSpan a, TimeSpan b) { return a.Add(b); }
        public static TimeSpan operator -(TimeSpan a, TimeSpan b) { return a.Subtract(b); }
        public static TimeSpan operator -(TimeSpan a) { return a.Negate(); }
        public static bool operator ==(TimeSpan a, TimeSpan b) { return a.ticks == b.ticks; }
        public static bool operator !=(TimeSpan a, TimeSpan b) { return a.ticks != b.ticks; }
        public static bool operator <(TimeSpan a, TimeSpan b) { return a.ticks < b.ticks; }
        public static bool operator >(TimeSpan a, TimeSpan b) { return a.ticks > b.ticks; }
        public static bool operator <=(TimeSpan a, TimeSpan b) { return a.ticks <= b.ticks; }
        public static bool operator >=(TimeSpan a, TimeSpan b) { return a.ticks >= b.ticks; }
        public static int Compare(TimeSpan a, TimeSpan b) { return a.ticks < b.ticks ? -1 : a.ticks > b.ticks ? 1 : 0; }
        public int CompareTo(TimeSpan value) { return Compare(this, value); }
        public int CompareTo(object value)
        {
            if (value == null) return 1;
            if (!(value is TimeSpan)) throw new ArgumentException("Object must be of type TimeSpan.");
            return Compare(this, (TimeSpan)value);
        }
        public bool Equals(TimeSpan obj) { return ticks == obj.ticks; }
        public override bool Equals(object value) { return value is TimeSpan && ((TimeSpan)value).ticks == ticks; }
        public override int GetHashCode() { return (int)ticks ^ (int)(ticks >> 32); }
    }
}

namespace System.Collections.Generic
{
    public class SortedList<TKey, TValue>
    {
        TKey[] keys = new TKey[0];
        TValue[] values = new TValue[0];
        int count;
        readonly IComparer<TKey> comparer;

        public SortedList() : this((IComparer<TKey>)null) { }
        public SortedList(IComparer<TKey> comparer) { this.comparer = comparer != null ? comparer : Comparer<TKey>.Default; }
        public SortedList(int capacity) : this((IComparer<TKey>)null)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity");
            keys = new TKey[capacity]; values = new TValue[capacity];
        }

        public int Count { get { return count; } }
        public IComparer<TKey> Comparer { get { return comparer; } }

        // The key's index, or the complement of where it would go.
        public int IndexOfKey(TKey key)
        {
            if (key == null) throw new ArgumentNullException("key");
            int lo = 0, hi = count - 1;
            while (lo <= hi)
            {
                int mid = lo + (hi - lo) / 2;
                int c = comparer.Compare(keys[mid], key);
                if (c == 0) return mid;
                if (c < 0) lo = mid + 1; else hi = mid - 1;
            }
            return ~lo;
        }

        public bool ContainsKey(TKey key) { return IndexOfKey(key) >= 0; }

        public bool TryGetValue(TKey key, out TValue value)
        {
            int i = IndexOfKey(key);
            value = i >= 0 ? values[i] : default(TValue);
            return i >= 0;
        }

        public TValue this[TKey key]
        {
            get
            {
                int i = IndexOfKey(key);
                if (i < 0) throw new KeyNotFoundException();
                return values[i];
            }
            set
            {
                int i = IndexOfKey(key);
                if (i >= 0) values[i] = value; else Insert(~i, key, value);
            }
        }

        public void Add(TKey key, TValue value)
        {
            int i = IndexOfKey(key);
            if (i >= 0) throw new ArgumentException("An item with the same key has already been added.");
            Insert(~i, key, value);
        }

        void Insert(int at, TKey key, TValue value)
        {
            if (count == keys.Length)
            {
                int n = count == 0 ? 4 : count * 2;
                TKey[] k = new TKey[n]; TValue[] v = new TValue[n];
                Array.Copy(keys, k, count); Array.Copy(values, v, count);
                keys = k; values = v;
            }
            Array.Copy(keys, at, keys, at + 1, count - at);
            Array.Copy(values, at, values, at + 1, count - at);
            keys[at] = key; values[at] = value;
            count++;
        }

        public bool Remove(TKey key)
        {
            int i = IndexOfKey(key);
            if (i < 0) return false;
            RemoveAt(i);
            return true;
        }

        public void RemoveAt(int index)
        {
            if ((uint)index >= (uint)count) throw new ArgumentOutOfRangeException("index");
            count--;
            Array.Copy(keys, index + 1, keys, index, count - index);
            Array.Copy(values, index + 1, values, index, count - index);
            keys[count] = default(TKey); values[count] = default(TValue);
        }

        public void Clear()
        {
            Array.Clear(keys, 0, count); Array.Clear(values, 0, count);
            count = 0;
        }
    }
}
