//! A map keyed by a runtime id ([`MethodId`](crate::types::MethodId) or
//! [`TypeId`](crate::types::TypeId) number): ids are dense indices into the type
//! system's tables, so a vector indexed by id answers in O(1).
//!
//! The engine kept six such maps as `BTreeMap`s. Under QEMU TCG every basic
//! block executed at boot is translated once, and each `BTreeMap<K, V>`
//! instantiation brought its own B-tree code; this is a few small functions.

use alloc::vec::Vec;

/// Values by id, in id order when iterated (as the `BTreeMap` it replaces).
pub(crate) struct IdMap<V> {
    slots: Vec<Option<V>>,
}

impl<V> IdMap<V> {
    pub(crate) const fn new() -> Self {
        IdMap { slots: Vec::new() }
    }

    pub(crate) fn get(&self, id: u32) -> Option<&V> {
        self.slots.get(id as usize)?.as_ref()
    }

    /// The value of `id`, inserted by `make` first if absent.
    pub(crate) fn get_or_insert_with(&mut self, id: u32, make: impl FnOnce() -> V) -> &mut V {
        let slot = self.slot(id);
        slot.get_or_insert_with(make)
    }

    pub(crate) fn insert(&mut self, id: u32, v: V) -> Option<V> {
        self.slot(id).replace(v)
    }

    pub(crate) fn remove(&mut self, id: u32) -> Option<V> {
        self.slots.get_mut(id as usize)?.take()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &V)> {
        (0u32..)
            .zip(self.slots.iter())
            .filter_map(|(id, v)| Some((id, v.as_ref()?)))
    }

    fn slot(&mut self, id: u32) -> &mut Option<V> {
        let i = id as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        &mut self.slots[i]
    }
}
