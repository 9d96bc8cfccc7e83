// Multicast delegates (ECMA-335 §II.14.6, §I.8.9.3): a combined delegate is a
// chain of copies of single-target delegates linked through m_prev, last entry
// first; Invoke (runtime-implemented) calls the chain in order. Plus the
// delegate types and event types programs use without declaring them.
namespace System
{
    public abstract partial class Delegate
    {
        public object Target { get { return m_target; } }

        internal bool SameTarget(Delegate d)
        {
            return (object)m_target == (object)d.m_target && m_method == d.m_method;
        }

        internal int Count()
        {
            int n = 0;
            for (Delegate d = this; (object)d != null; d = d.m_prev) n++;
            return n;
        }

        // The single-target entries, in invocation order.
        public virtual Delegate[] GetInvocationList()
        {
            Delegate[] list = new Delegate[Count()];
            int i = list.Length;
            for (Delegate d = this; (object)d != null; d = d.m_prev) list[--i] = d;
            return list;
        }

        // A copy of entry `e` chained after `prev`.
        static Delegate Link(Delegate prev, Delegate e)
        {
            Delegate c = (Delegate)e.MemberwiseClone();
            c.m_prev = prev;
            return c;
        }

        public static Delegate Combine(Delegate a, Delegate b)
        {
            if ((object)a == null) return b;
            if ((object)b == null) return a;
            Delegate r = a;
            Delegate[] bl = b.GetInvocationList();
            for (int i = 0; i < bl.Length; i++) r = Link(r, bl[i]);
            return r;
        }

        public static Delegate Combine(params Delegate[] delegates)
        {
            if (delegates == null) return null;
            Delegate r = null;
            for (int i = 0; i < delegates.Length; i++) r = Combine(r, delegates[i]);
            return r;
        }

        // Removes the last occurrence of value's invocation list from source's.
        public static Delegate Remove(Delegate source, Delegate value)
        {
            if ((object)source == null) return null;
            if ((object)value == null) return source;
            Delegate[] s = source.GetInvocationList();
            Delegate[] v = value.GetInvocationList();
            for (int i = s.Length - v.Length; i >= 0; i--)
            {
                bool match = true;
                for (int k = 0; k < v.Length && match; k++) match = s[i + k].SameTarget(v[k]);
                if (!match) continue;
                Delegate r = null;
                for (int k = 0; k < s.Length; k++)
                {
                    if (k >= i && k < i + v.Length) continue;
                    r = Link(r, s[k]);
                }
                return r;
            }
            return source;
        }

        public static Delegate RemoveAll(Delegate source, Delegate value)
        {
            Delegate r = source;
            while (true)
            {
                Delegate n = Remove(r, value);
                if ((object)n == (object)r) return r;
                r = n;
            }
        }

        public override bool Equals(object obj)
        {
            Delegate d = obj as Delegate;
            if ((object)d == null) return false;
            Delegate a = this;
            while ((object)a != null && (object)d != null)
            {
                if (!a.SameTarget(d)) return false;
                a = a.m_prev;
                d = d.m_prev;
            }
            return (object)a == (object)d;
        }

        public override int GetHashCode() { return (int)(long)m_method; }

        public static bool operator ==(Delegate d1, Delegate d2)
        {
            if ((object)d1 == null) return (object)d2 == null;
            return d1.Equals(d2);
        }

        public static bool operator !=(Delegate d1, Delegate d2) { return !(d1 == d2); }
    }

    public class EventArgs
    {
        public static readonly EventArgs Empty = new EventArgs();
        public EventArgs() { }
    }

    public delegate void EventHandler(object sender, EventArgs e);
    public delegate void EventHandler<TEventArgs>(object sender, TEventArgs e);

    public delegate void Action();
    public delegate void Action<in T>(T obj);
    public delegate void Action<in T1, in T2>(T1 arg1, T2 arg2);
    public delegate void Action<in T1, in T2, in T3>(T1 arg1, T2 arg2, T3 arg3);
    public delegate void Action<in T1, in T2, in T3, in T4>(T1 arg1, T2 arg2, T3 arg3, T4 arg4);
    public delegate TResult Func<out TResult>();
    public delegate TResult Func<in T, out TResult>(T arg);
    public delegate TResult Func<in T1, in T2, out TResult>(T1 arg1, T2 arg2);
    public delegate TResult Func<in T1, in T2, in T3, out TResult>(T1 arg1, T2 arg2, T3 arg3);
    public delegate TResult Func<in T1, in T2, in T3, in T4, out TResult>(T1 arg1, T2 arg2, T3 arg3, T4 arg4);
    public delegate bool Predicate<in T>(T obj);
    public delegate int Comparison<in T>(T x, T y);
    public delegate TOutput Converter<in TInput, out TOutput>(TInput input);
}
