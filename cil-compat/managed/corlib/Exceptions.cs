// Exception types the CLI raises (Partition III §1.5 lists them per instruction).
namespace System
{
    public class Exception
    {
        internal string _message;
        internal Exception _innerException;
        // Set by the runtime when the exception is thrown (exec/unwind.rs).
        internal string _stackTrace;
        public Exception() { }
        public Exception(string message) { _message = message; }
        public Exception(string message, Exception innerException) { _message = message; _innerException = innerException; }
        public virtual string Message { get { return _message == null ? "Exception" : _message; } }
        public Exception InnerException { get { return _innerException; } }
        public virtual string StackTrace { get { return _stackTrace; } }
        public override string ToString() { return Message; }
    }

    public class SystemException : Exception
    {
        public SystemException() { }
        public SystemException(string message) : base(message) { }
    }

    public class ArithmeticException : SystemException
    {
        public ArithmeticException() { }
        public ArithmeticException(string message) : base(message) { }
    }

    public class DivideByZeroException : ArithmeticException
    {
        public DivideByZeroException() : base("Attempted to divide by zero.") { }
        public DivideByZeroException(string message) : base(message) { }
    }

    public class OverflowException : ArithmeticException
    {
        public OverflowException() : base("Arithmetic operation resulted in an overflow.") { }
        public OverflowException(string message) : base(message) { }
    }

    public class NullReferenceException : SystemException
    {
        public NullReferenceException() : base("Object reference not set to an instance of an object.") { }
        public NullReferenceException(string message) : base(message) { }
    }

    public class IndexOutOfRangeException : SystemException
    {
        public IndexOutOfRangeException() : base("Index was outside the bounds of the array.") { }
        public IndexOutOfRangeException(string message) : base(message) { }
    }

    public class InvalidCastException : SystemException
    {
        public InvalidCastException() : base("Specified cast is not valid.") { }
        public InvalidCastException(string message) : base(message) { }
    }

    public class ArrayTypeMismatchException : SystemException
    {
        public ArrayTypeMismatchException() : base("Attempted to access an element as a type incompatible with the array.") { }
        public ArrayTypeMismatchException(string message) : base(message) { }
    }

    public class RankException : SystemException
    {
        public RankException() : base("Attempted to operate on an array with the incorrect number of dimensions.") { }
        public RankException(string message) : base(message) { }
    }

    public class OutOfMemoryException : SystemException
    {
        public OutOfMemoryException() { }
    }

    public class StackOverflowException : SystemException
    {
        public StackOverflowException() { }
    }

    public class ArgumentException : SystemException
    {
        internal string _paramName;
        public ArgumentException() { }
        public ArgumentException(string message) : base(message) { }
        public ArgumentException(string message, string paramName) : base(message) { _paramName = paramName; }
        public virtual string ParamName { get { return _paramName; } }
    }

    public class ArgumentNullException : ArgumentException
    {
        public ArgumentNullException() { }
        public ArgumentNullException(string paramName) : base("Value cannot be null.", paramName) { }
    }

    public class ArgumentOutOfRangeException : ArgumentException
    {
        public ArgumentOutOfRangeException() { }
        public ArgumentOutOfRangeException(string paramName) : base("Specified argument was out of the range of valid values.", paramName) { }
        public ArgumentOutOfRangeException(string paramName, string message) : base(message, paramName) { }
    }

    public class InvalidOperationException : SystemException
    {
        public InvalidOperationException() { }
        public InvalidOperationException(string message) : base(message) { }
    }

    public class NotSupportedException : SystemException
    {
        public NotSupportedException() { }
        public NotSupportedException(string message) : base(message) { }
    }

    public class NotImplementedException : SystemException
    {
        public NotImplementedException() { }
        public NotImplementedException(string message) : base(message) { }
    }

    public class FormatException : SystemException
    {
        public FormatException() { }
        public FormatException(string message) : base(message) { }
    }

    public class TypeLoadException : SystemException
    {
        public TypeLoadException() { }
    }

    public class ApplicationException : Exception
    {
        public ApplicationException() { }
        public ApplicationException(string message) : base(message) { }
        public ApplicationException(string message, Exception innerException) : base(message, innerException) { }
    }

    public sealed class TypeInitializationException : SystemException
    {
        readonly string typeName;
        public TypeInitializationException(string fullTypeName, Exception innerException)
            : base("The type initializer for '" + fullTypeName + "' threw an exception.")
        {
            typeName = fullTypeName;
            _innerException = innerException;
        }
        public string TypeName { get { return typeName; } }
    }
}

namespace System.Reflection
{
    // The reflection surface programs name; this runtime has no member
    // reflection (Type.GetMethod throws NotSupportedException).
    public abstract class MethodBase
    {
        public abstract string Name { get; }
        public abstract object Invoke(object obj, object[] parameters);
    }

    public abstract class MethodInfo : MethodBase { }

    public sealed class TargetInvocationException : Exception
    {
        public TargetInvocationException(Exception inner) : base("Exception has been thrown by the target of an invocation.", inner) { }
        public TargetInvocationException(string message, Exception inner) : base(message, inner) { }
    }
}
