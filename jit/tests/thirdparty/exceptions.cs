// exceptions.cs: test_N_name programs in the style of a JIT regression suite's
// exception tests (each test returns N): throw/catch across frames, finally and
// filters, runtime errors caught as exceptions, objects carried by exceptions.
using System;

class MyException : Exception
{
    public int Value;
    public MyException(int v) { Value = v; }
}

class Node
{
    public int Val;
    public Node Next;
    public Node(int v, Node n) { Val = v; Next = n; }
}

struct Point { public int X, Y; public Point(int x, int y) { X = x; Y = y; } }

class Tests
{
    static int Main(string[] args)
    {
        return 0;
    }

    static int counter;

    static void Fail(int v) { throw new MyException(v); }
    static int Sum(Node n) { int s = 0; while (true) { s += n.Val; n = n.Next; } }
    static int Recurse(int n) { if (n == 0) Fail(23); return Recurse(n - 1) + 1; }

    public static int test_1_catch() { try { Fail(1); } catch (MyException e) { return e.Value; } return 0; }

    public static int test_2_finally()
    {
        int r = 0;
        try { r = 1; } finally { r++; }
        return r;
    }

    public static int test_3_catch_and_finally()
    {
        int r = 0;
        try { Fail(1); } catch (MyException) { r += 1; } finally { r += 2; }
        return r;
    }

    public static int test_10_list_walk_null_reference()
    {
        Node l = new Node(1, new Node(2, new Node(3, new Node(4, null))));
        try { return Sum(l); } catch (NullReferenceException) { return 10; }
    }

    public static int test_23_deep_recursion() { try { return Recurse(50); } catch (MyException e) { return e.Value; } }

    public static int test_4_array_bounds()
    {
        int[] a = new int[4];
        int r = 0;
        for (int i = 0; i <= 8; i++)
        {
            try { a[i] = i; } catch (IndexOutOfRangeException) { r++; }
        }
        return r - 1;
    }

    public static int test_5_div_zero_long()
    {
        long a = 10, b = 0;
        try { return (int)(a / b); } catch (DivideByZeroException) { return 5; }
    }

    public static int test_6_checked_mul()
    {
        int n = 1;
        int steps = 0;
        try { checked { while (true) { n *= 3; steps++; } } } catch (OverflowException) { }
        return steps - 13;
    }

    public static int test_7_checked_conv()
    {
        double d = 1e20;
        try { return checked((int)d); } catch (OverflowException) { return 7; }
    }

    public static int test_8_cast()
    {
        object o = new Node(1, null);
        try { MyException m = (MyException)o; return m.Value; } catch (InvalidCastException) { return 8; }
    }

    public static int test_9_nested_rethrow()
    {
        int r = 0;
        try
        {
            try { Fail(4); }
            catch (MyException) { r += 5; throw; }
        }
        catch (MyException e) { r += e.Value; }
        return r;
    }

    public static int test_11_when_filter()
    {
        int r = 0;
        for (int i = 0; i < 4; i++)
        {
            try { Fail(i); }
            catch (MyException e) when (e.Value % 2 == 1) { r += 5; }
            catch (MyException) { r += 1; }
        }
        return r - 1;
    }

    public static int test_12_finally_counter()
    {
        counter = 0;
        for (int i = 0; i < 12; i++)
        {
            try { if (i % 3 == 0) Fail(i); } catch (MyException) { } finally { counter++; }
        }
        return counter;
    }

    public static int test_13_struct_in_exception_path()
    {
        Point p = new Point(6, 7);
        try { Fail(0); } catch (MyException) { p.X += p.Y; }
        return p.X;
    }

    public static int test_14_return_from_try()
    {
        counter = 0;
        int r = ReturnFromTry();
        return r + counter;
    }

    static int ReturnFromTry()
    {
        try { return 10; } finally { counter = 4; }
    }

    public static int test_15_exception_object_fields()
    {
        MyException saved = null;
        try { Fail(15); } catch (MyException e) { saved = e; }
        return saved.Value;
    }

    public static int test_16_catch_exception_base()
    {
        try { object o = null; return o.GetHashCode(); } catch (Exception) { return 16; }
    }

    public static int test_17_throw_in_finally_of_callee()
    {
        try { ThrowInFinally(); } catch (MyException e) { return e.Value; }
        return 0;
    }

    static void ThrowInFinally()
    {
        try { counter = 1; } finally { Fail(17); }
    }

    public static int test_18_string_message()
    {
        try { throw new InvalidOperationException("eighteen chars....") ; }
        catch (InvalidOperationException e) { return e.Message.Length; }
    }

    public static int test_19_unboxing()
    {
        object o = 19L;
        try { return (int)o; } catch (InvalidCastException) { return 19; }
    }

    public static int test_20_inner()
    {
        try
        {
            try { Fail(20); }
            catch (Exception e) { throw new Exception("outer", e); }
        }
        catch (Exception e) { return ((MyException)e.InnerException).Value; }
        return 0;
    }
}
