//! [`Name`]: a member's name, shared. Every generic instance of a type gets
//! its own field and method records (`stages::stage_members_of_instance`);
//! with the name a reference-counted `str` they share the definition's
//! instead of copying it, which was one allocation per member per instance.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;

/// An immutable, cheaply cloned member name that reads as a `str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

impl Name {
    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl core::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Arc::from(s))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> Self {
        String::from(&*n.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, o: &str) -> bool {
        &*self.0 == o
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, o: &&str) -> bool {
        &*self.0 == *o
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, o: &String) -> bool {
        &*self.0 == o.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, o: &Name) -> bool {
        *self == &*o.0
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, o: &Name) -> bool {
        self == &*o.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_and_shares() {
        let a = Name::from(".ctor");
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.0, &b.0));
        // Both operand orders (two impls).
        assert!(a == ".ctor");
        assert!(".ctor" == a);
        assert!(a != "Invoke");
        assert_eq!(alloc::format!("{a} {a:?}"), ".ctor \".ctor\"");
        assert_eq!(String::from(b), ".ctor");
    }
}
