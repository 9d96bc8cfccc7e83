// System.Linq.Enumerable: the common query operators over IEnumerable<T>,
// evaluated lazily where .NET is lazy (Where, Select).
namespace System.Linq
{
    using System.Collections.Generic;

    public static class Enumerable
    {
        static void Check(object source, object f)
        {
            if (source == null) throw new ArgumentNullException("source");
            if (f == null) throw new ArgumentNullException("predicate");
        }

        public static IEnumerable<T> Where<T>(this IEnumerable<T> source, Func<T, bool> predicate)
        {
            Check(source, predicate);
            return WhereIterator(source, predicate);
        }
        static IEnumerable<T> WhereIterator<T>(IEnumerable<T> source, Func<T, bool> predicate)
        {
            foreach (T x in source) if (predicate(x)) yield return x;
        }

        public static IEnumerable<R> Select<T, R>(this IEnumerable<T> source, Func<T, R> selector)
        {
            Check(source, selector);
            return SelectIterator(source, selector);
        }
        static IEnumerable<R> SelectIterator<T, R>(IEnumerable<T> source, Func<T, R> selector)
        {
            foreach (T x in source) yield return selector(x);
        }

        public static int Count<T>(this IEnumerable<T> source)
        {
            if (source == null) throw new ArgumentNullException("source");
            ICollection<T> c = source as ICollection<T>;
            if (c != null) return c.Count;
            int n = 0;
            foreach (T x in source) n++;
            return n;
        }

        public static int Count<T>(this IEnumerable<T> source, Func<T, bool> predicate)
        {
            Check(source, predicate);
            int n = 0;
            foreach (T x in source) if (predicate(x)) n++;
            return n;
        }

        public static bool Any<T>(this IEnumerable<T> source)
        {
            if (source == null) throw new ArgumentNullException("source");
            foreach (T x in source) return true;
            return false;
        }

        public static bool Any<T>(this IEnumerable<T> source, Func<T, bool> predicate)
        {
            Check(source, predicate);
            foreach (T x in source) if (predicate(x)) return true;
            return false;
        }

        public static T First<T>(this IEnumerable<T> source)
        {
            if (source == null) throw new ArgumentNullException("source");
            foreach (T x in source) return x;
            throw new InvalidOperationException("Sequence contains no elements");
        }

        public static List<T> ToList<T>(this IEnumerable<T> source)
        {
            if (source == null) throw new ArgumentNullException("source");
            return new List<T>(source);
        }

        public static T[] ToArray<T>(this IEnumerable<T> source)
        {
            return ToList(source).ToArray();
        }
    }
}

