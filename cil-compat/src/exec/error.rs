//! What can stop the engine from producing code for a method: the loader's
//! error, the JIT's, a type the JIT cannot represent, a missing native
//! binding or corlib member, or no room for the code. A leaf below the engine
//! (`exec/mod.rs`) and the hosts that print its messages (boot log, `cilrun`);
//! `Display` is the text they show.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::fmt;

use jit::host::HostError as JitHostError;
use jit::{JitError, JitErrorKind};

/// An engine operation failed (compiling a method, making a stub, running a
/// type initializer, finding a corlib member).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EngineError {
    /// The loader could not read or lay out what a method needs (its body,
    /// locals, a value type's layout), or the method's signature did not
    /// resolve when its assembly loaded. `method` names it when known.
    Load {
        method: Option<String>,
        error: crate::Error,
    },
    /// A type parameter reached the JIT unsubstituted (`name` is the
    /// loader's `!n` / `!!n`). `in_cs` is the same said in C# terms, once
    /// the method being compiled is known.
    OpenGeneric { name: String, in_cs: Option<String> },
    /// An enum without its `value__` field.
    EnumWithoutValue(String),
    /// A local, parameter or return type (`what`) of `method` cannot be
    /// given to the JIT.
    Signature {
        method: String,
        what: &'static str,
        error: Box<EngineError>,
    },
    /// An InternalCall or P/Invoke method no native code was bound to.
    NotBound(String),
    /// A method without IL that the engine does not synthesize (abstract or
    /// runtime-implemented).
    NoBody(String),
    /// The JIT rejected the method (the error names it and the IL offset).
    Jit(JitError),
    /// A lazy-compile or unboxing stub could not be assembled.
    Stub(JitErrorKind),
    /// The host's code memory refused the code (`CodeMemory::install`).
    CodeSpace(String),
    /// A runtime service is missing from the corlib.
    Corlib(&'static str),
    /// Shared generic code (`exec/shared.rs`): a canonical method that has
    /// no code but the shared body, and that body could not be made. The
    /// text names the method and why.
    Shared(String),
    /// The type initializer (`.cctor`) of the named type threw; the type
    /// stays unusable and each access raises the same
    /// `System.TypeInitializationException` (`Engine::type_init_failure`).
    TypeInit(String),
}

impl EngineError {
    /// This error with the loader's and JIT's `open generic type !n` about
    /// compiling `m` reworded in C# terms (by `rewrite`, see
    /// `csnames::in_cs_terms`); other text is kept.
    pub(crate) fn in_cs_terms(self, rewrite: &dyn Fn(&str) -> String) -> EngineError {
        match self {
            EngineError::OpenGeneric { name, in_cs: None } => {
                let in_cs = rewrite(&alloc::format!("open generic type {name}"));
                EngineError::OpenGeneric {
                    name,
                    in_cs: Some(in_cs),
                }
            }
            EngineError::Signature {
                method,
                what,
                error,
            } => EngineError::Signature {
                method,
                what,
                error: Box::new(error.in_cs_terms(rewrite)),
            },
            EngineError::Jit(mut e) => {
                e.kind = match e.kind {
                    JitErrorKind::Host(h) => {
                        JitErrorKind::Host(h.with_message(rewrite(h.message())))
                    }
                    JitErrorKind::Internal(m) => JitErrorKind::Internal(rewrite(&m).into()),
                    k => k,
                };
                EngineError::Jit(e)
            }
            e => e,
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Load {
                method: Some(m),
                error,
            } => write!(f, "{m}: {error}"),
            EngineError::Load {
                method: None,
                error,
            } => write!(f, "{error}"),
            EngineError::OpenGeneric {
                in_cs: Some(text), ..
            } => f.write_str(text),
            EngineError::OpenGeneric { name, in_cs: None } => {
                write!(f, "open generic type {name}")
            }
            EngineError::EnumWithoutValue(t) => write!(f, "enum {t} has no value__"),
            EngineError::Signature {
                method,
                what,
                error,
            } => write!(f, "{method}: {what}: {error}"),
            EngineError::NotBound(m) => write!(f, "{m}: internal call not bound"),
            EngineError::NoBody(m) => {
                write!(f, "{m}: no IL body (abstract or runtime-implemented)")
            }
            EngineError::Jit(e) => write!(f, "{e}"),
            EngineError::Stub(k) => write!(f, "{k}"),
            EngineError::CodeSpace(m) => f.write_str(m),
            EngineError::Corlib(m) => f.write_str(m),
            EngineError::Shared(m) => f.write_str(m),
            EngineError::TypeInit(t) => write!(
                f,
                "exception System.TypeInitializationException: the type initializer of {t} threw"
            ),
        }
    }
}

/// The engine's error as the JIT's, when the JIT asked (a signature or field
/// type it needed): the loader's kind kept, the message as the engine words it.
impl From<EngineError> for JitHostError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Load {
                method: None,
                error,
            } => error.into(),
            e @ EngineError::OpenGeneric { .. } => JitHostError::Unsupported(e.to_string()),
            e => JitHostError::Other(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn messages_read_as_before_the_enum() {
        let load = crate::Error::Unresolved {
            what: "type",
            name: "Ns.Missing".into(),
        };
        let cases = [
            (
                EngineError::Load {
                    method: Some("Ns.T::M".into()),
                    error: load.clone(),
                },
                alloc::format!("Ns.T::M: {load}"),
            ),
            (
                EngineError::NotBound("Ns.T::M".into()),
                "Ns.T::M: internal call not bound".into(),
            ),
            (
                EngineError::NoBody("Ns.T::M".into()),
                "Ns.T::M: no IL body (abstract or runtime-implemented)".into(),
            ),
            (
                EngineError::Signature {
                    method: "Ns.T::M".into(),
                    what: "local",
                    error: Box::new(EngineError::EnumWithoutValue("Ns.E".into())),
                },
                "Ns.T::M: local: enum Ns.E has no value__".into(),
            ),
            (
                EngineError::Corlib("corlib has no System.Delegate"),
                "corlib has no System.Delegate".into(),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn open_generic_is_reworded_in_place_and_keeps_its_kind_for_the_jit() {
        let e = EngineError::Signature {
            method: "Ns.T::M".into(),
            what: "return",
            error: Box::new(EngineError::OpenGeneric {
                name: "!0".into(),
                in_cs: None,
            }),
        };
        let cs = e.in_cs_terms(&|m: &str| m.replace("open generic type !0", "type parameter T"));
        assert_eq!(cs.to_string(), "Ns.T::M: return: type parameter T");
        let h: JitHostError = EngineError::OpenGeneric {
            name: "!0".into(),
            in_cs: None,
        }
        .into();
        assert_eq!(h, JitHostError::Unsupported("open generic type !0".into()));
    }
}
