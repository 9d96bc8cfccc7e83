// A second assembly referencing Layouts.dll: TypeRef/MemberRef resolution across
// assemblies, nested TypeRefs, and MemberRefs on generic instances.
using LoaderTests;

namespace DependentTests
{
    public class Derived : Square
    {
        public Outer.InnerStruct Extra;
        public override string ToString() { return "derived"; }
    }

    public struct Holder { public PciAddress Addr; public Pair<short> P; public byte Last; }

    public static class Uses
    {
        public static int Run()
        {
            Derived d = new Derived();
            Pair<short> p = new Pair<short>();
            p.Value = 5;
            return d.Area() + d.Sides() + p.Value + Precise.Counter;
        }
    }
}
