// md_arrays.cs: test_N_name programs over multi-dimensional arrays (T[,], T[,,],
// non-zero lower bounds through Array.CreateInstance), jagged arrays, covariant
// stores, and the System.Array/Buffer helpers, written the way a user would.
using System;
using System.Collections.Generic;

struct Cell
{
    public int Row;
    public int Col;
    public double Weight;
    public Cell(int r, int c, double w) { Row = r; Col = c; Weight = w; }
}

class Shape { public virtual int Sides() { return 0; } }
class Square : Shape { public override int Sides() { return 4; } }
class Triangle : Shape { public override int Sides() { return 3; } }

class ByAbs : IComparer<int>
{
    public int Compare(int a, int b) { return Math.Abs(a).CompareTo(Math.Abs(b)); }
}

class MdArrayTests
{
    static int Main(string[] args)
    {
        return test_6_total_length() == 6 && test_45_fill_and_sum() == 45 ? 0 : 1;
    }

    static int Checksum(int[,] m)
    {
        int s = 0;
        for (int i = m.GetLowerBound(0); i <= m.GetUpperBound(0); i++)
            for (int j = m.GetLowerBound(1); j <= m.GetUpperBound(1); j++)
                s = s * 3 + m[i, j];
        return s;
    }

    static int[,] Transpose(int[,] m)
    {
        int[,] t = new int[m.GetLength(1), m.GetLength(0)];
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < m.GetLength(1); j++) t[j, i] = m[i, j];
        return t;
    }

    static void Twice(ref double d) { d *= 2; }

    public static int test_6_total_length() { int[,] a = new int[2, 3]; return a.Length; }
    public static int test_2_rank_of_matrix() { return new byte[4, 4].Rank; }
    public static int test_3_rank_of_cube() { return new object[1, 2, 3].Rank; }
    public static int test_45_fill_and_sum()
    {
        int[,] a = new int[3, 3];
        int n = 1;
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) a[i, j] = n++;
        int s = 0;
        foreach (int v in a) s += v;
        return s;
    }
    public static int test_0_zeroed_on_creation()
    {
        long[,,] a = new long[3, 4, 5];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) for (int k = 0; k < 5; k++) if (a[i, j, k] != 0) return 1;
        return 0;
    }
    public static int test_7_get_length_each_dim() { int[,,] a = new int[1, 2, 4]; return a.GetLength(0) + a.GetLength(1) + a.GetLength(2); }
    public static int test_9_upper_bound() { int[,] a = new int[5, 10]; return a.GetUpperBound(1); }
    public static int test_0_lower_bound_default() { int[,] a = new int[5, 10]; return a.GetLowerBound(0) + a.GetLowerBound(1); }
    public static int test_31_last_element() { int[,] a = new int[4, 8]; a[3, 7] = 31; return a[3, 7]; }
    public static int test_12_row_major_neighbours()
    {
        byte[,] a = new byte[2, 3];
        a[0, 2] = 5; a[1, 0] = 7;
        return a[0, 2] + a[1, 0] + a[0, 1] + a[1, 1];
    }
    public static int test_1_transpose()
    {
        int[,] m = { { 1, 2, 3 }, { 4, 5, 6 } };
        int[,] t = Transpose(m);
        return t.GetLength(0) == 3 && t[2, 1] == 6 && t[0, 1] == 4 ? 1 : 0;
    }
    public static int test_100_three_dim_corner()
    {
        int[,,] c = new int[5, 5, 5];
        c[4, 4, 4] = 100;
        int s = 0;
        foreach (int v in c) s += v;
        return s;
    }
    public static int test_10_double_matrix()
    {
        double[,] m = new double[2, 2];
        m[0, 0] = 1.5; m[1, 1] = 2.5; m[0, 1] = 6;
        return (int)(m[0, 0] + m[1, 1] + m[0, 1] + m[1, 0]);
    }
    public static int test_8_address_of_element()
    {
        double[,] m = new double[3, 3];
        m[2, 1] = 4;
        Twice(ref m[2, 1]);
        return (int)m[2, 1];
    }
    public static int test_15_compound_ops()
    {
        int[,] a = new int[2, 2];
        a[1, 1] = 3;
        a[1, 1] *= 4;
        a[1, 1] += 3;
        return a[1, 1];
    }
    public static int test_13_struct_cells()
    {
        Cell[,] g = new Cell[3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) g[i, j] = new Cell(i, j, i * 0.5);
        return g[2, 1].Row * 4 + g[2, 1].Col + (int)(g[2, 2].Weight * 4);
    }
    public static int test_6_struct_field_update()
    {
        Cell[,] g = new Cell[2, 2];
        g[1, 0].Col = 5;
        g[1, 0].Col++;
        return g[1, 0].Col + g[0, 1].Col;
    }
    public static int test_7_reference_elements()
    {
        Shape[,] s = new Shape[2, 2];
        s[0, 0] = new Square();
        s[1, 1] = new Triangle();
        return s[0, 0].Sides() + s[1, 1].Sides() + (s[0, 1] == null ? 0 : 100);
    }
    public static int test_4_covariant_store_ok()
    {
        Shape[,] s = new Square[1, 1];
        s[0, 0] = new Square();
        return s[0, 0].Sides();
    }
    public static int test_1_covariant_store_wrong()
    {
        Shape[,] s = new Square[1, 1];
        try { s[0, 0] = new Triangle(); return 0; }
        catch (ArrayTypeMismatchException) { return 1; }
    }
    public static int test_1_string_matrix_as_objects()
    {
        object[,] o = new string[2, 2];
        try { o[1, 1] = 42; return 0; }
        catch (ArrayTypeMismatchException) { return o[1, 1] == null ? 1 : 2; }
    }
    public static int test_1_first_index_checked()
    {
        int[,] a = new int[2, 2];
        try { a[2, 0] = 1; return 0; } catch (IndexOutOfRangeException) { return 1; }
    }
    public static int test_1_second_index_checked()
    {
        int[,] a = new int[2, 2];
        try { return a[0, -1]; } catch (IndexOutOfRangeException) { return 1; }
    }
    public static int test_1_third_index_checked()
    {
        int[,,] a = new int[2, 2, 2];
        try { a[1, 1, 2]++; return 0; } catch (IndexOutOfRangeException) { return 1; }
    }
    public static int test_1_index_does_not_wrap()
    {
        // [0, 3] would be [1, 0] if the dimensions were not checked one by one.
        int[,] a = new int[2, 3];
        try { return a[0, 3]; } catch (IndexOutOfRangeException) { return 1; }
    }
    public static int test_1_negative_dimension()
    {
        int n = -1;
        try { int[,] a = new int[2, n]; return a.Length; } catch (OverflowException) { return 1; }
    }
    public static int test_1_null_matrix()
    {
        int[,] a = null;
        try { return a[0, 0]; } catch (NullReferenceException) { return 1; }
    }
    public static int test_16_initializer()
    {
        int[,] a = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
        return a[0, 0] + a[1, 1] + a[2, 1] + a.GetLength(0) * a.GetLength(1) - 1;
    }
    public static int test_112_checksum()
    {
        int[,] a = { { 1, 2 }, { 1, 1 } };
        return Checksum(a) * 2 + 18 - 4;
    }
    public static int test_5_jagged_rows()
    {
        int[][] j = new int[4][];
        for (int i = 0; i < j.Length; i++) j[i] = new int[i];
        j[3][2] = 2;
        return j[3].Length + j[3][2];
    }
    public static int test_9_jagged_of_matrices()
    {
        int[][,] j = { new int[1, 1], new int[2, 2] };
        j[1][1, 1] = 9;
        return j[1][1, 1] + j[0][0, 0];
    }
    public static int test_3_matrix_of_jagged()
    {
        string[,][] m = new string[2, 2][];
        m[0, 1] = new string[] { "a", "b", "c" };
        return m[0, 1].Length;
    }
    public static int test_42_get_value_boxed()
    {
        int[,] a = new int[2, 2];
        a[1, 0] = 42;
        return (int)a.GetValue(1, 0);
    }
    public static int test_17_set_value_unboxed()
    {
        long[,,] a = new long[2, 2, 2];
        a.SetValue(17L, new int[] { 1, 0, 1 });
        return (int)a[1, 0, 1];
    }
    public static int test_1_set_value_wrong_type()
    {
        int[,] a = new int[2, 2];
        try { a.SetValue("x", 0, 0); return 0; } catch (InvalidCastException) { return 1; }
    }
    public static int test_12_create_instance()
    {
        Array a = Array.CreateInstance(typeof(double), 3, 4);
        return a.Length + a.Rank - 2;
    }
    public static int test_7_create_instance_cast()
    {
        int[,] a = (int[,])Array.CreateInstance(typeof(int), 2, 2);
        a[1, 1] = 7;
        return a[1, 1];
    }
    public static int test_4_non_zero_lower_bound()
    {
        Array a = Array.CreateInstance(typeof(int), new int[] { 3, 2 }, new int[] { 5, -1 });
        a.SetValue(5, 7, 0);
        return (int)a.GetValue(7, 0) + a.GetLowerBound(1) + a.GetUpperBound(1);
    }
    public static int test_1_non_zero_lower_bound_checked()
    {
        Array a = Array.CreateInstance(typeof(int), new int[] { 3 }, new int[] { 5 });
        try { a.GetValue(4); return 0; } catch (IndexOutOfRangeException) { return 1; }
    }
    public static int test_0_clone_is_independent()
    {
        int[,] a = { { 1, 2 }, { 3, 4 } };
        int[,] b = (int[,])a.Clone();
        b[0, 0] = 99;
        return a[0, 0] == 1 && b[0, 0] == 99 && b[1, 1] == 4 ? 0 : 1;
    }
    public static int test_4_copy_flat()
    {
        int[,] a = { { 1, 2 }, { 3, 4 } };
        int[,] b = new int[2, 2];
        Array.Copy(a, b, a.Length);
        return b[1, 1];
    }
    public static int test_0_clear_matrix()
    {
        int[,] a = { { 1, 2 }, { 3, 4 } };
        Array.Clear(a, 0, a.Length);
        foreach (int v in a) if (v != 0) return 1;
        return 0;
    }
    public static int test_123_sort_vector()
    {
        int[] v = { 3, 1, 2 };
        Array.Sort(v);
        return v[0] * 100 + v[1] * 10 + v[2];
    }
    public static int test_321_sort_with_comparer()
    {
        int[] v = { -1, 3, -2 };
        Array.Sort(v, new ByAbs());
        return Math.Abs(v[2]) * 100 + Math.Abs(v[1]) * 10 + Math.Abs(v[0]);
    }
    public static int test_2_index_of()
    {
        string[] v = { "x", "y", "z" };
        return Array.IndexOf(v, "z");
    }
    public static int test_8_block_copy_bytes()
    {
        short[] s = { 0x0102, 0x0304 };
        byte[] b = new byte[4];
        Buffer.BlockCopy(s, 0, b, 0, 4);
        return b[0] + b[1] + b[2] + b[3] - 2;
    }
    public static int test_40_matrix_product()
    {
        int[,] a = { { 1, 2 }, { 3, 4 } };
        int[,] b = { { 1, 0 }, { 1, 1 } };
        int[,] c = new int[2, 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++) c[i, j] += a[i, k] * b[k, j];
        return c[0, 0] + c[0, 1] * 2 + c[1, 0] * 3 + c[1, 1] * 4 - 4;
    }
    public static int test_0_generic_matrix()
    {
        string[,] s = Make<string>(2, 3, "q");
        double[,] d = Make<double>(1, 1, 2.0);
        return s[1, 2] == "q" && d[0, 0] == 2.0 ? 0 : 1;
    }
    static T[,] Make<T>(int r, int c, T v)
    {
        T[,] m = new T[r, c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) m[i, j] = v;
        return m;
    }
}
