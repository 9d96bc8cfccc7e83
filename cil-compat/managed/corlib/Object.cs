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
        // The full name of the object's type, as .NET prints it.
        public virtual string ToString() { return GetType().ToString(); }
        public static bool ReferenceEquals(object a, object b) { return a == b; }
        // The exact runtime type (its MethodTable, read by the runtime).
        public Type GetType() { return new RuntimeType(GetTypeHandle()); }
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        extern IntPtr GetTypeHandle();
        // A shallow copy of the same type (bound by the runtime).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        protected extern object MemberwiseClone();
        ~Object() { }
    }

    public abstract class ValueType
    {
        protected ValueType() { }
        // Same type and same bytes (the runtime compares the boxed values;
        // reference fields compare by identity, not by their own Equals).
        public override bool Equals(object obj) { return BitwiseEquals(this, obj); }
        public override int GetHashCode() { return BitwiseHash(this); }
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        static extern bool BitwiseEquals(object a, object b);
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        static extern int BitwiseHash(object a);
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
            return (object)t != null && t.m_handle.ToInt64() == m_handle.ToInt64();
        }
        public override int GetHashCode() { return (int)m_handle.ToInt64(); }
        // Types compare by identity of the runtime type, not of the Type object.
        public static bool operator ==(Type a, Type b)
        {
            if ((object)a == null || (object)b == null) return (object)a == (object)b;
            return a.m_handle.ToInt64() == b.m_handle.ToInt64();
        }
        public static bool operator !=(Type a, Type b) { return !(a == b); }
        // `Int32`, `List`1`, `Int32[,]`; FullName `System.Int32`, `Outer+Inner`,
        // and for an instantiation `System.Collections.Generic.List`1[System.Int32]`.
        public string Name { get { return GetName(false); } }
        public string FullName { get { return GetName(true); } }
        public override string ToString() { return GetName(true); }
        public bool IsAssignableFrom(Type c)
        {
            return (object)c != null && IsAssignableInternal(m_handle, c.m_handle);
        }
        // Reflection over members is not supported by this runtime.
        public System.Reflection.MethodInfo GetMethod(string name)
        {
            throw new NotSupportedException("reflection: Type.GetMethod");
        }
        string GetName(bool full)
        {
            char[] buf = new char[64];
            int n = GetNameInternal(m_handle, full, buf);
            if (n < 0) { buf = new char[-n]; n = GetNameInternal(m_handle, full, buf); }
            return string.FromChars(buf, 0, n);
        }
        // Writes the name into buf and returns its length, or returns minus the
        // length needed when buf is too short.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        static extern int GetNameInternal(IntPtr handle, bool full, char[] buf);
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        static extern bool IsAssignableInternal(IntPtr to, IntPtr from);
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

    // mcs requires a struct; __makeref and friends are not supported by the JIT.
    public struct TypedReference
    {
        internal IntPtr Value;
        internal IntPtr Type;
    }
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
