// System.Collections.Generic's interfaces and small types: IComparable<T>,
// IEnumerable<T>/IEnumerator<T>, ICollection<T>/IList<T> and their read-only
// views, IEqualityComparer<T>/IComparer<T>, KeyValuePair, KeyNotFoundException,
// and EqualityComparer<T>.Default / Comparer<T>.Default (which use IEquatable<T> /
// IComparable<T> when T implements them). The collections themselves are in
// List.cs, Dictionary.cs, QueueStack.cs and HashSet.cs; each instantiation is
// compiled on its own by our runtime.
namespace System
{
    public interface IComparable<in T>
    {
        int CompareTo(T other);
    }
}

namespace System.Collections.Generic
{
    public interface IEnumerable<out T> : System.Collections.IEnumerable
    {
        new IEnumerator<T> GetEnumerator();
    }

    public interface IEnumerator<out T> : IDisposable, System.Collections.IEnumerator
    {
        new T Current { get; }
    }

    public interface IReadOnlyCollection<out T> : IEnumerable<T>
    {
        int Count { get; }
    }

    public interface IReadOnlyList<out T> : IReadOnlyCollection<T>
    {
        T this[int index] { get; }
    }

    public interface ICollection<T> : IEnumerable<T>
    {
        int Count { get; }
        bool IsReadOnly { get; }
        void Add(T item);
        void Clear();
        bool Contains(T item);
        void CopyTo(T[] array, int arrayIndex);
        bool Remove(T item);
    }

    public interface IList<T> : ICollection<T>
    {
        T this[int index] { get; set; }
        int IndexOf(T item);
        void Insert(int index, T item);
        void RemoveAt(int index);
    }

    public interface ISet<T> : ICollection<T>
    {
        new bool Add(T item);
        void UnionWith(IEnumerable<T> other);
        void IntersectWith(IEnumerable<T> other);
        void ExceptWith(IEnumerable<T> other);
        bool IsSubsetOf(IEnumerable<T> other);
        bool IsSupersetOf(IEnumerable<T> other);
        bool Overlaps(IEnumerable<T> other);
        bool SetEquals(IEnumerable<T> other);
    }

    public interface IDictionary<TKey, TValue> : ICollection<KeyValuePair<TKey, TValue>>
    {
        TValue this[TKey key] { get; set; }
        ICollection<TKey> Keys { get; }
        ICollection<TValue> Values { get; }
        void Add(TKey key, TValue value);
        bool ContainsKey(TKey key);
        bool Remove(TKey key);
        bool TryGetValue(TKey key, out TValue value);
    }

    public interface IEqualityComparer<in T>
    {
        bool Equals(T x, T y);
        int GetHashCode(T obj);
    }

    public interface IComparer<in T>
    {
        int Compare(T x, T y);
    }

    public class KeyNotFoundException : SystemException
    {
        public KeyNotFoundException() : base("The given key was not present in the dictionary.") { }
        public KeyNotFoundException(string message) : base(message) { }
    }

    public struct KeyValuePair<TKey, TValue>
    {
        TKey key;
        TValue value;
        public KeyValuePair(TKey key, TValue value) { this.key = key; this.value = value; }
        public TKey Key { get { return key; } }
        public TValue Value { get { return value; } }
        public override string ToString()
        {
            return "[" + (key == null ? "" : key.ToString()) + ", " + (value == null ? "" : value.ToString()) + "]";
        }
    }

    // Thrown by every enumerator here when its collection changed under it.
    internal static class CollectionErrors
    {
        internal static InvalidOperationException Modified()
        {
            return new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
        }

        internal static InvalidOperationException Empty(string what)
        {
            return new InvalidOperationException(what + " empty.");
        }
    }

    public abstract class EqualityComparer<T> : IEqualityComparer<T>
    {
        static EqualityComparer<T> defaultComparer;

        public static EqualityComparer<T> Default
        {
            get
            {
                if (defaultComparer == null) defaultComparer = new ObjectEqualityComparer<T>();
                return defaultComparer;
            }
        }

        public abstract bool Equals(T x, T y);
        public abstract int GetHashCode(T obj);
    }

    // IEquatable<T>.Equals when T implements it (a value type is boxed for the
    // interface test, as we cannot build GenericEqualityComparer<T> by reflection),
    // else Object.Equals; GetHashCode through a constrained call.
    internal sealed class ObjectEqualityComparer<T> : EqualityComparer<T>
    {
        public override bool Equals(T x, T y)
        {
            if (x == null) return y == null;
            if (y == null) return false;
            IEquatable<T> e = x as IEquatable<T>;
            if (e != null) return e.Equals(y);
            return x.Equals(y);
        }

        public override int GetHashCode(T obj) { return obj == null ? 0 : obj.GetHashCode(); }
    }

    public abstract class Comparer<T> : IComparer<T>
    {
        static Comparer<T> defaultComparer;

        public static Comparer<T> Default
        {
            get
            {
                if (defaultComparer == null) defaultComparer = new ObjectComparer<T>();
                return defaultComparer;
            }
        }

        public static Comparer<T> Create(Comparison<T> comparison)
        {
            if (comparison == null) throw new ArgumentNullException("comparison");
            return new ComparisonComparer<T>(comparison);
        }

        public abstract int Compare(T x, T y);
    }

    internal sealed class ObjectComparer<T> : Comparer<T>
    {
        public override int Compare(T x, T y)
        {
            if (x == null) return y == null ? 0 : -1;
            if (y == null) return 1;
            IComparable<T> g = x as IComparable<T>;
            if (g != null) return g.CompareTo(y);
            IComparable c = x as IComparable;
            if (c != null) return c.CompareTo(y);
            throw new ArgumentException("At least one object must implement IComparable.");
        }
    }

    internal sealed class ComparisonComparer<T> : Comparer<T>
    {
        readonly Comparison<T> comparison;
        public ComparisonComparer(Comparison<T> comparison) { this.comparison = comparison; }
        public override int Compare(T x, T y) { return comparison(x, y); }
    }
}
