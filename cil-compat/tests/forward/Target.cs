// The assembly a type was forwarded to (see Shim.il).
namespace Fwd
{
    public static class Thing
    {
        public static int Get() { return 42; }
    }
}
