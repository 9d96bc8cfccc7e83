// Attributes mcs looks up by name, plus the layout/interop attributes drivers use.
namespace System
{
    [AttributeUsage(AttributeTargets.All, Inherited = true, AllowMultiple = false)]
    public abstract class Attribute
    {
        protected Attribute() { }
    }

    public enum AttributeTargets
    {
        Assembly = 1, Module = 2, Class = 4, Struct = 8, Enum = 16, Constructor = 32,
        Method = 64, Property = 128, Field = 256, Event = 512, Interface = 1024,
        Parameter = 2048, Delegate = 4096, ReturnValue = 8192, GenericParameter = 16384,
        All = 32767
    }

    [AttributeUsage(AttributeTargets.Class, Inherited = true)]
    public sealed class AttributeUsageAttribute : Attribute
    {
        AttributeTargets valid;
        bool allowMultiple;
        bool inherited = true;
        public AttributeUsageAttribute(AttributeTargets validOn) { valid = validOn; }
        public AttributeTargets ValidOn { get { return valid; } }
        public bool AllowMultiple { get { return allowMultiple; } set { allowMultiple = value; } }
        public bool Inherited { get { return inherited; } set { inherited = value; } }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class ParamArrayAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Enum)]
    public class FlagsAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.All)]
    public sealed class ObsoleteAttribute : Attribute
    {
        public ObsoleteAttribute() { }
        public ObsoleteAttribute(string message) { }
    }

    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Field)]
    public sealed class SerializableAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class ThreadStaticAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.All)]
    public sealed class CLSCompliantAttribute : Attribute
    {
        public CLSCompliantAttribute(bool isCompliant) { }
    }
}

namespace System.Runtime.InteropServices
{
    public enum LayoutKind { Sequential = 0, Explicit = 2, Auto = 3 }
    public enum CharSet { None = 1, Ansi = 2, Unicode = 3, Auto = 4 }
    public enum CallingConvention { Winapi = 1, Cdecl = 2, StdCall = 3, ThisCall = 4, FastCall = 5 }

    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct)]
    public sealed class StructLayoutAttribute : Attribute
    {
        LayoutKind kind;
        public int Pack;
        public int Size;
        public CharSet CharSet;
        public StructLayoutAttribute(LayoutKind layoutKind) { kind = layoutKind; }
        public StructLayoutAttribute(short layoutKind) { kind = (LayoutKind)layoutKind; }
        public LayoutKind Value { get { return kind; } }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class FieldOffsetAttribute : Attribute
    {
        int offset;
        public FieldOffsetAttribute(int offset) { this.offset = offset; }
        public int Value { get { return offset; } }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class OutAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class InAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class DllImportAttribute : Attribute
    {
        string dll;
        public string EntryPoint;
        public CallingConvention CallingConvention;
        public DllImportAttribute(string dllName) { dll = dllName; }
        public string Value { get { return dll; } }
    }

    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Parameter | AttributeTargets.ReturnValue)]
    public sealed class MarshalAsAttribute : Attribute
    {
        public MarshalAsAttribute(short unmanagedType) { }
    }
}

namespace System.Runtime.CompilerServices
{
    [Flags]
    public enum MethodImplOptions
    {
        Unmanaged = 4, NoInlining = 8, ForwardRef = 16, Synchronized = 32,
        NoOptimization = 64, PreserveSig = 128, AggressiveInlining = 256,
        InternalCall = 4096
    }

    public enum MethodCodeType { IL = 0, Native = 1, OPTIL = 2, Runtime = 3 }

    [AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor)]
    public sealed class MethodImplAttribute : Attribute
    {
        MethodImplOptions options;
        public MethodCodeType MethodCodeType;
        public MethodImplAttribute() { }
        public MethodImplAttribute(MethodImplOptions methodImplOptions) { options = methodImplOptions; }
        public MethodImplAttribute(short value) { options = (MethodImplOptions)value; }
        public MethodImplOptions Value { get { return options; } }
    }

    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class CompilerGeneratedAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Struct)]
    public sealed class ExtensionAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class FixedBufferAttribute : Attribute
    {
        public FixedBufferAttribute(Type elementType, int length) { }
    }

    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    public sealed class RuntimeCompatibilityAttribute : Attribute
    {
        public bool WrapNonExceptionThrows;
    }

    [AttributeUsage(AttributeTargets.Struct)]
    public sealed class UnsafeValueTypeAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Module)]
    public sealed class UnverifiableCodeAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Property)]
    public sealed class IndexerNameAttribute : Attribute
    {
        public IndexerNameAttribute(string name) { }
    }

    [AttributeUsage(AttributeTargets.Struct)]
    public sealed class IsByRefLikeAttribute : Attribute { }

    public static class RuntimeHelpers
    {
        // Copies the FieldRVA data behind `fldHandle` into `array` (§III.4: the
        // `newarr; dup; ldtoken; call InitializeArray` idiom). Bound by the runtime.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void InitializeArray(Array array, RuntimeFieldHandle fldHandle);

        public static int OffsetToStringData { get { return 20; } }
    }
}

namespace System.Diagnostics
{
    [AttributeUsage(AttributeTargets.All, AllowMultiple = true)]
    public sealed class ConditionalAttribute : Attribute
    {
        public ConditionalAttribute(string conditionString) { }
    }

    [AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Module)]
    public sealed class DebuggableAttribute : Attribute
    {
        public enum DebuggingModes { None = 0, Default = 1, DisableOptimizations = 256, IgnoreSymbolStoreSequencePoints = 2, EnableEditAndContinue = 4 }
        public DebuggableAttribute(DebuggingModes modes) { }
        public DebuggableAttribute(bool isJITTrackingEnabled, bool isJITOptimizerDisabled) { }
    }
}

namespace System.Reflection
{
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface)]
    public sealed class DefaultMemberAttribute : Attribute
    {
        string name;
        public DefaultMemberAttribute(string memberName) { name = memberName; }
        public string MemberName { get { return name; } }
    }
}
