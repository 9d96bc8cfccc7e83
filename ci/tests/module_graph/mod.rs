//! The module graph of one crate, read from its source with `syn`: the module
//! tree (`mod` declarations, inline and file modules, `#[path]`), and every
//! path that names another module of the crate (`crate::…`, `$crate::…`,
//! `super::…`, `self::…`, a child module by name, in `use` trees, expressions,
//! types, and macro bodies), resolved through `use` re-exports to the module
//! it lands in. A reference from module `S` to module `T` is an edge between
//! the two siblings where their paths part: `crate::a::x → crate::b::y` is the
//! edge `a → b` of the crate root's graph, `crate::a::x → crate::a::y` the
//! edge `x → y` of `a`'s graph. A module naming its own ancestor or
//! descendant is no edge (a child using its parent's items is how Rust
//! modules nest, not a cycle). Cycles are the strongly connected components
//! of each parent's graph (Tarjan).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A module path inside a crate, root = `[]`.
pub type ModPath = Vec<String>;

/// One place in the source that makes an edge.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    /// Relative to the workspace root.
    pub file: String,
    pub line: usize,
    /// The path as written (a `use` tree flattened to one leaf).
    pub path: String,
}

/// `from → to` between two children of `parent`, with where it comes from.
#[derive(Clone, Debug)]
pub struct Edge {
    pub parent: ModPath,
    pub from: String,
    pub to: String,
    pub site: Site,
}

/// A strongly connected component of one parent's graph (two or more
/// children that reach each other), with the edges among them.
#[derive(Debug)]
pub struct Cycle {
    pub krate: String,
    pub parent: ModPath,
    /// Sorted child names.
    pub members: Vec<String>,
    pub edges: Vec<Edge>,
}

impl Cycle {
    /// Members as full module paths, e.g. `exec::helpers`.
    pub fn member_paths(&self) -> Vec<String> {
        self.members.iter().map(|m| join(&self.parent, m)).collect()
    }

    /// A human-readable report: the members and every edge among them.
    pub fn report(&self) -> String {
        let mut s = format!(
            "{}: cycle between {}\n",
            self.krate,
            self.member_paths().join(", ")
        );
        for e in &self.edges {
            s += &format!(
                "    {} -> {}   {}:{}  {}\n",
                join(&e.parent, &e.from),
                join(&e.parent, &e.to),
                e.site.file,
                e.site.line,
                e.site.path
            );
        }
        s
    }
}

fn join(parent: &[String], name: &str) -> String {
    let mut v = parent.to_vec();
    v.push(name.to_string());
    v.join("::")
}

#[derive(Default, Debug)]
struct Module {
    children: BTreeSet<String>,
    /// Names brought in by `use` (renames included) → the absolute path they
    /// stand for; followed when a path goes through this module.
    /// `relative`: the path starts at a child module of this one, or at an
    /// external crate (then it is not followed).
    imports: BTreeMap<String, (ModPath, bool)>,
}

/// A path found in module `from`, not yet resolved.
struct RawRef {
    from: ModPath,
    /// Absolute segments, or relative to `from` when `relative`.
    segments: Vec<String>,
    relative: bool,
    site: Site,
}

/// The parsed crate.
pub struct CrateGraph {
    name: String,
    modules: BTreeMap<ModPath, Module>,
    refs: Vec<RawRef>,
}

impl CrateGraph {
    /// Parses the crate whose root file is `root` (`src/lib.rs` or
    /// `src/main.rs`); file names in reports are relative to `workspace`.
    pub fn load(name: &str, workspace: &Path, root: &Path) -> Result<CrateGraph, String> {
        let mut g = CrateGraph {
            name: name.to_string(),
            modules: BTreeMap::new(),
            refs: Vec::new(),
        };
        g.modules.insert(Vec::new(), Module::default());
        let mut queue = vec![(Vec::new(), root.to_path_buf())];
        while let Some((module, file)) = queue.pop() {
            let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let ast = syn::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let shown = file
                .strip_prefix(workspace)
                .unwrap_or(&file)
                .display()
                .to_string();
            let mut v = FileVisitor {
                graph: &mut g,
                file: &file,
                shown,
                module: module.clone(),
                inline_depth: 0,
                queue: &mut queue,
                error: None,
            };
            v.visit_file(&ast);
            if let Some(e) = v.error {
                return Err(e);
            }
        }
        Ok(g)
    }

    fn is_module(&self, p: &[String]) -> bool {
        self.modules.contains_key(p)
    }

    /// The deepest module an absolute path reaches, following `use` imports
    /// of the modules it passes through (re-exports such as `crate::Platform`).
    fn resolve(&self, path: &[String]) -> ModPath {
        let mut path = path.to_vec();
        'restart: for _ in 0..16 {
            let mut cur: ModPath = Vec::new();
            for (i, seg) in path.iter().enumerate() {
                let mut next = cur.clone();
                next.push(seg.clone());
                if self.is_module(&next) {
                    cur = next;
                    continue;
                }
                if let Some((target, relative)) =
                    self.modules.get(&cur).and_then(|m| m.imports.get(seg))
                {
                    let mut target = target.clone();
                    if *relative {
                        let mut child = cur.clone();
                        child.push(target[0].clone());
                        if !self.is_module(&child) {
                            return cur;
                        }
                        let mut t = cur.clone();
                        t.extend(target);
                        target = t;
                    }
                    if target.as_slice() != &path[..=i] {
                        let mut p = target;
                        p.extend_from_slice(&path[i + 1..]);
                        path = p;
                        continue 'restart;
                    }
                }
                return cur;
            }
            return cur;
        }
        Vec::new()
    }

    /// Every edge between siblings, deduplicated by (parent, from, to, site).
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for r in &self.refs {
            let abs = if r.relative {
                // A plain `x::…` names module `x` only if `x` is a child of
                // `from` (otherwise it is an external crate or a local item).
                let mut p = r.from.clone();
                p.push(r.segments[0].clone());
                if !self.is_module(&p) {
                    continue;
                }
                p.extend_from_slice(&r.segments[1..]);
                p
            } else {
                r.segments.clone()
            };
            let to = self.resolve(&abs);
            let k = r.from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if k == r.from.len() || k == to.len() {
                continue; // an ancestor or a descendant
            }
            let e = Edge {
                parent: r.from[..k].to_vec(),
                from: r.from[k].clone(),
                to: to[k].clone(),
                site: r.site.clone(),
            };
            if seen.insert((
                e.parent.clone(),
                e.from.clone(),
                e.to.clone(),
                e.site.clone(),
            )) {
                out.push(e);
            }
        }
        out
    }

    /// The strongly connected components of two or more modules, in every
    /// parent's graph.
    pub fn cycles(&self) -> Vec<Cycle> {
        let edges = self.edges();
        let mut by_parent: BTreeMap<ModPath, Vec<&Edge>> = BTreeMap::new();
        for e in &edges {
            by_parent.entry(e.parent.clone()).or_default().push(e);
        }
        let mut out = Vec::new();
        for (parent, es) in by_parent {
            let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for e in &es {
                adj.entry(&e.from).or_default().insert(&e.to);
                adj.entry(&e.to).or_default();
            }
            for scc in tarjan(&adj) {
                if scc.len() < 2 {
                    continue;
                }
                let members: BTreeSet<&str> = scc.iter().copied().collect();
                let mut inner: Vec<Edge> = es
                    .iter()
                    .filter(|e| {
                        members.contains(e.from.as_str()) && members.contains(e.to.as_str())
                    })
                    .map(|e| (*e).clone())
                    .collect();
                inner.sort_by(|a, b| (&a.from, &a.to, &a.site).cmp(&(&b.from, &b.to, &b.site)));
                out.push(Cycle {
                    krate: self.name.clone(),
                    parent: parent.clone(),
                    members: members.iter().map(|s| s.to_string()).collect(),
                    edges: inner,
                });
            }
        }
        out
    }
}

/// Tarjan's strongly connected components over a small adjacency map.
fn tarjan<'a>(adj: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, adj: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in &adj[v] {
            if !s.index.contains_key(w) {
                visit(w, adj, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(scc);
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in adj.keys() {
        if !s.index.contains_key(v) {
            visit(v, adj, &mut s);
        }
    }
    s.out
}

struct FileVisitor<'g, 'q> {
    graph: &'g mut CrateGraph,
    file: &'q Path,
    shown: String,
    /// The module being visited (the file's module plus inline nesting).
    module: ModPath,
    inline_depth: usize,
    queue: &'q mut Vec<(ModPath, PathBuf)>,
    error: Option<String>,
}

impl FileVisitor<'_, '_> {
    /// `crate`/`$crate`/`super`/`self` prefixes made absolute; a plain
    /// multi-segment path kept relative for later. `None`: not a module path.
    fn absolute(&self, segs: &[String]) -> Option<(Vec<String>, bool)> {
        let first = segs.first()?;
        match first.as_str() {
            "crate" | "$crate" => Some((segs[1..].to_vec(), false)),
            "self" | "super" => {
                let mut base = self.module.clone();
                let mut i = 0;
                while i < segs.len() && (segs[i] == "self" || segs[i] == "super") {
                    if segs[i] == "super" {
                        base.pop()?;
                    }
                    i += 1;
                }
                base.extend_from_slice(&segs[i..]);
                Some((base, false))
            }
            _ if segs.len() >= 2 && first != "Self" => Some((segs.to_vec(), true)),
            _ => None,
        }
    }

    fn record(&mut self, segs: Vec<String>, line: usize) {
        let text = segs.join("::");
        if let Some((segments, relative)) = self.absolute(&segs) {
            self.graph.refs.push(RawRef {
                from: self.module.clone(),
                segments,
                relative,
                site: Site {
                    file: self.shown.clone(),
                    line,
                    path: text,
                },
            });
        }
    }

    /// Flattens a `use` tree into one recorded path per leaf, and records
    /// the names it imports.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, &n.ident, &n.ident),
            syn::UseTree::Rename(r) => self.use_leaf(prefix, &r.ident, &r.rename),
            syn::UseTree::Glob(g) => {
                let mut segs = prefix.clone();
                let line = g.star_token.spans[0].start().line;
                segs.push("*".into());
                let shown = format!("use {}", segs.join("::"));
                segs.pop();
                if !segs.is_empty() {
                    self.record_use(segs, line, shown);
                }
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &[String], ident: &syn::Ident, alias: &syn::Ident) {
        let mut segs = prefix.to_vec();
        let name = ident.to_string();
        // `use a::b::{self}` imports `b` itself.
        let alias = if name == "self" {
            prefix.last().cloned().unwrap_or_default()
        } else {
            segs.push(name);
            alias.to_string()
        };
        let line = ident.span().start().line;
        let shown = format!("use {}", segs.join("::"));
        if segs.is_empty() {
            return;
        }
        let abs = if segs.len() == 1 && !matches!(segs[0].as_str(), "crate" | "self" | "super") {
            Some((segs.clone(), true))
        } else {
            self.absolute(&segs)
        };
        if let Some(abs) = abs {
            if !alias.is_empty() && alias != "_" {
                let m = self.graph.modules.entry(self.module.clone()).or_default();
                m.imports.insert(alias, abs);
            }
        }
        self.record_use(segs, line, shown);
    }

    fn record_use(&mut self, segs: Vec<String>, line: usize, shown: String) {
        // In a `use`, a plain first segment is a child module or an extern
        // crate, so even a one-segment-after-prefix path may name a module.
        let abs = if segs.len() == 1 && !matches!(segs[0].as_str(), "crate" | "self" | "super") {
            Some((segs.clone(), true))
        } else {
            self.absolute(&segs)
        };
        if let Some((segments, relative)) = abs {
            self.graph.refs.push(RawRef {
                from: self.module.clone(),
                segments,
                relative,
                site: Site {
                    file: self.shown.clone(),
                    line,
                    path: shown,
                },
            });
        }
    }

    /// Paths in a macro's unparsed tokens: `crate::…`, `$crate::…`,
    /// `super::…`, `self::…` sequences.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let toks: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < toks.len() {
            if let TokenTree::Group(g) = &toks[i] {
                self.scan_tokens(g.stream());
                i += 1;
                continue;
            }
            let dollar = matches!(&toks[i], TokenTree::Punct(p) if p.as_char() == '$');
            let start = if dollar { i + 1 } else { i };
            let is_root = |t: &TokenTree| matches!(t, TokenTree::Ident(id) if id == "crate" || id == "super" || id == "self");
            if start < toks.len() && is_root(&toks[start]) {
                let mut segs = Vec::new();
                let line = toks[start].span().start().line;
                let mut j = start;
                while let Some(TokenTree::Ident(id)) = toks.get(j) {
                    let s = id.to_string();
                    segs.push(if dollar && segs.is_empty() && s == "crate" {
                        "$crate".to_string()
                    } else {
                        s
                    });
                    let colons = matches!(toks.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
                        && matches!(toks.get(j + 2), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                    if !colons {
                        break;
                    }
                    j += 3;
                }
                if segs.len() >= 2 {
                    self.record(segs, line);
                }
                i = j + 1;
                continue;
            }
            i += 1;
        }
    }

    fn child_file(&self, item: &syn::ItemMod) -> Option<PathBuf> {
        let name = item.ident.to_string();
        let dir = self.file.parent().unwrap();
        for a in &item.attrs {
            if a.path().is_ident("path") {
                if let syn::Meta::NameValue(nv) = &a.meta {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = &nv.value
                    {
                        return Some(dir.join(s.value()));
                    }
                }
            }
        }
        let stem = self.file.file_stem().unwrap().to_string_lossy();
        let mut base = if matches!(stem.as_ref(), "mod" | "lib" | "main") {
            dir.to_path_buf()
        } else {
            dir.join(stem.as_ref())
        };
        let depth = self.module.len() - self.inline_depth;
        for inline in &self.module[depth..] {
            base.push(inline);
        }
        [
            base.join(format!("{name}.rs")),
            base.join(&name).join("mod.rs"),
        ]
        .into_iter()
        .find(|p| p.exists())
    }
}

impl<'ast> Visit<'ast> for FileVisitor<'_, '_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let name = m.ident.to_string();
        let mut child = self.module.clone();
        child.push(name.clone());
        self.graph
            .modules
            .entry(self.module.clone())
            .or_default()
            .children
            .insert(name);
        self.graph.modules.entry(child.clone()).or_default();
        match &m.content {
            Some((_, items)) => {
                self.module.push(m.ident.to_string());
                self.inline_depth += 1;
                for i in items {
                    self.visit_item(i);
                }
                self.inline_depth -= 1;
                self.module.pop();
            }
            None => match self.child_file(m) {
                Some(f) => self.queue.push((child, f)),
                None => self.error = Some(format!("{}: no file for `mod {}`", self.shown, m.ident)),
            },
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if u.leading_colon.is_none() {
            self.use_tree(&mut prefix, &u.tree);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = p.segments[0].ident.span().start().line;
            self.record(segs, line);
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
        visit::visit_macro(self, m);
    }
}
