// Expect.cs: the expectation attributes of the JIT conformance corpus.
// Every static parameterless method of a test class carries exactly one of them;
// the value is the exact text cilrun (and mono-runner) print after "= " or "! ".
// See README.md for the print format and the error kinds.
using System;

namespace Corpus
{
    /// <summary>The method returns normally and prints this text after "= ".</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class ExpectAttribute : Attribute
    {
        public readonly string Value;
        public ExpectAttribute(string value) { Value = value; }
    }

    /// <summary>The method stops with this runtime error kind (printed after "! ").</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class ExpectErrorAttribute : Attribute
    {
        public readonly string Kind;
        public ExpectErrorAttribute(string kind) { Kind = kind; }
    }
}
