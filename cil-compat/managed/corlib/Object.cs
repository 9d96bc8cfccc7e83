// Our corlib: System.Object, ValueType, Enum, Void, Type (GetTypeFromHandle for
// typeof) and handles, delegates,
// attributes the compiler needs (mcs -nostdlib requires these to exist).
namespace System
{
    public class Object
    {
        public Object() { }
        public virtual bool Equals(object obj) { return this == obj; }
        public virtual int GetHashCode() { return 0; }
        public virtual string ToString() { return "System.Object"; }
        public static bool ReferenceEquals(object a, object b) { return a == b; }
        // A shallow copy of the same type (bound by the runtime).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        protected extern object MemberwiseClone();
        ~Object() { }
    }

    public abstract class ValueType
    {
        protected ValueType() { }
    }

    public abstract class Enum : ValueType
    {
        protected Enum() { }
    }

    public struct Void { }

    public abstract class Type
    {
        // The runtime's type handle (MethodTable address), as ldtoken pushes it.
        internal IntPtr m_handle;
        protected Type() { }
        public RuntimeTypeHandle TypeHandle
        {
            get { RuntimeTypeHandle h = new RuntimeTypeHandle(); h.m_type = m_handle; return h; }
        }
        // typeof(T): one RuntimeType per call (compare types with Equals).
        public static Type GetTypeFromHandle(RuntimeTypeHandle handle)
        {
            if (handle.m_type.ToInt64() == 0) return null;
            return new RuntimeType(handle.m_type);
        }
        public override bool Equals(object o)
        {
            Type t = o as Type;
            return t != null && t.m_handle.ToInt64() == m_handle.ToInt64();
        }
        public override int GetHashCode() { return (int)m_handle.ToInt64(); }
    }

    internal sealed class RuntimeType : Type
    {
        internal RuntimeType(IntPtr handle) { m_handle = handle; }
    }

    public struct RuntimeTypeHandle
    {
        internal IntPtr m_type;
    }

    public struct RuntimeFieldHandle
    {
        internal IntPtr m_field;
    }

    public struct RuntimeMethodHandle
    {
        internal IntPtr m_method;
    }

    // Combine/Remove/equality are in Delegates.cs.
    public abstract partial class Delegate
    {
        internal object m_target;
        internal IntPtr m_method;
        // The earlier entries of a multicast delegate's invocation list (the
        // runtime's Invoke calls them first), or null.
        internal Delegate m_prev;
    }

    public abstract class MulticastDelegate : Delegate
    {
    }

    public interface IDisposable
    {
        void Dispose();
    }

    public interface IComparable
    {
        int CompareTo(object obj);
    }

    public interface IEquatable<T>
    {
        bool Equals(T other);
    }

    public struct Nullable<T> where T : struct
    {
        internal bool hasValue;
        internal T value;
        public Nullable(T value) { this.value = value; hasValue = true; }
        public bool HasValue { get { return hasValue; } }
        public T Value { get { return value; } }
        public T GetValueOrDefault() { return value; }
    }

    public sealed class TypedReference { }
    public sealed class ArgIterator { }
    public struct RuntimeArgumentHandle { }
}

namespace System.Collections
{
    public interface IEnumerable
    {
        IEnumerator GetEnumerator();
    }

    public interface IEnumerator
    {
        bool MoveNext();
        object Current { get; }
        void Reset();
    }

    // The non-generic collection interfaces; System.Array implements both.
    public interface ICollection : IEnumerable
    {
        int Count { get; }
        bool IsSynchronized { get; }
        object SyncRoot { get; }
        void CopyTo(System.Array array, int index);
    }

    public interface IList : ICollection
    {
        object this[int index] { get; set; }
        bool IsFixedSize { get; }
        bool IsReadOnly { get; }
        int Add(object value);
        void Clear();
        bool Contains(object value);
        int IndexOf(object value);
        void Insert(int index, object value);
        void Remove(object value);
        void RemoveAt(int index);
    }
}
