// Test corpus for the loader: every type here has its layout asserted in
// tests/layout.rs (sizes, field offsets, vtables, interface maps, statics).
using System;
using System.Runtime.InteropServices;

namespace LoaderTests
{
    // Seed bug 3: value-type fields start at 0; class fields after the 16-byte header.
    public struct Small { public byte A; public int B; public byte C; }          // 0,4,8 size 12
    public class Klass { public int X; public byte Y; public long Z; public object O; } // 16,20,24,32

    public struct Nested { public byte Tag; public Small Inner; public short Z; } // 0,4,16 size 20

    // The seed's 3-byte PCI address must stay 3 bytes (and 3 bytes per array element).
    public struct PciAddress { public byte Bus; public byte Device; public byte Function; }

    // Seed bug 1: PciBar[6] needs an array type whose component size is sizeof(PciBar).
    public struct PciBar { public ulong Address; public ulong Size; public bool IsIo; public bool Is64Bit; }

    public class PciDeviceInfo
    {
        public PciAddress Address;
        public ushort VendorId;
        public ushort DeviceId;
        public PciBar[] Bars = new PciBar[6];
    }

    [StructLayout(LayoutKind.Explicit, Size = 16)]
    public struct Union { [FieldOffset(0)] public int I; [FieldOffset(0)] public float F; [FieldOffset(8)] public long L; }

    [StructLayout(LayoutKind.Explicit)]
    public struct Overlay { [FieldOffset(0)] public uint Whole; [FieldOffset(1)] public byte Second; [FieldOffset(2)] public ushort High; }

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Packed1 { public byte A; public int B; public long C; }        // 0,1,5 size 13

    [StructLayout(LayoutKind.Sequential, Pack = 2)]
    public struct Packed2 { public byte A; public int B; public long C; }        // 0,2,6 size 14

    [StructLayout(LayoutKind.Sequential, Size = 32)]
    public struct Sized { public int A; }                                         // size 32

    public struct WithRef { public int A; public string S; public int B; }       // 0,8,16 size 24, gc @8

    public enum Color : byte { Red, Green, Blue }
    public enum Big : long { One = 1 }
    public struct HasEnums { public Color C; public Big B; }                      // 0,8 size 16

    public struct Pair<T> { public byte Tag; public T Value; }

    public struct UsesGenerics { public Pair<int> P; public Pair<long> Q; }     // 0 (8), 8 (16) size 24

    // Inheritance: base fields first.
    public class Animal { public int Legs; }
    public class Dog : Animal { public byte Good; public long Id; }

    // Virtual dispatch: override keeps the slot, `new virtual` opens one.
    public class A
    {
        public virtual int F() { return 1; }
        public virtual int G() { return 2; }
        public int NonVirtual() { return 3; }
    }
    public class B : A
    {
        public override int F() { return 10; }
        public new virtual int G() { return 20; }
    }
    public class C : B
    {
        public override int G() { return 200; }
        public sealed override int F() { return 100; }
    }

    public interface IShape { int Area(); int Sides(); }
    public interface INamed { string Name(); }
    public interface IBoth : IShape, INamed { }

    public class Square : IShape
    {
        public int Side = 2;
        public int Area() { return Side * Side; }
        public int Sides() { return 4; }
    }
    public class Triangle : IShape
    {
        int IShape.Area() { return 3; }          // explicit: MethodImpl row
        public virtual int Sides() { return 3; }
    }
    public class BigSquare : Square { }          // inherits Square's map
    public class Thing : IBoth
    {
        public int Area() { return 0; }
        public int Sides() { return 0; }
        public string Name() { return "thing"; }
    }
    public abstract class Partial : IShape
    {
        public abstract int Area();
        public int Sides() { return 1; }
    }

    // Statics: explicit .cctor (precise) vs. field initialisers only (beforefieldinit).
    public class Precise
    {
        public static int Counter;
        public static long Big;
        static Precise() { Counter = 42; }
    }
    public class Lazy
    {
        public static int Value = 7;
        public static object Obj;
    }
    public class NoStatics { public int X; }

    public static class Tables
    {
        // mcs stores the initial data as FieldRVA and calls RuntimeHelpers.InitializeArray.
        public static readonly int[] Primes = { 2, 3, 5, 7, 11, 13, 17, 19 };
        public static readonly byte[] Bytes = { 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6 };
        public const int Answer = 42;
    }

    public class Outer
    {
        public struct InnerStruct { public short A; public short B; }
        public class InnerClass { public InnerStruct S; }
        public InnerStruct Field;
    }

    public static class Literals
    {
        public static string Hello() { return "Hello, héllo ✓"; }
        public static string Empty() { return ""; }
        public static int UsesArrays()
        {
            PciBar[] bars = new PciBar[6];
            bars[2].Size = 4096;
            PciAddress[] addrs = new PciAddress[4];
            addrs[1].Device = 3;
            return (int)bars[2].Size + addrs[1].Device + Tables.Primes[3];
        }
    }

    public class Disposable : IDisposable
    {
        public bool Done;
        public void Dispose() { Done = true; }
    }
}

namespace LoaderTests
{
    public static class Handlers
    {
        public static int TryCatchFinally(int x)
        {
            int r = 0;
            try
            {
                try { r = 100 / x; }
                catch (DivideByZeroException) { r = -1; }
            }
            finally { r += 1; }
            return r;
        }
    }
}

namespace LoaderTests
{
    public class GBox<T>
    {
        public T Value;
        public T Get() { return Value; }
        public static U Id<U>(U x) { return x; }
    }

    public static class GenericUser
    {
        public static int Use()
        {
            GBox<int> b = new GBox<int>();
            b.Value = 3;
            return b.Get() + GBox<int>.Id<int>(4) + (int)GBox<long>.Id<long>(5L);
        }
    }
}
