//! Lookup tests: search order, terminating, patterns, hash prefixes, succinct bins,
//! cycles, the visited cap, roles absent from snapshot, the diamond, and the roles a
//! finished walk reports it visited.

use std::collections::BTreeMap;

use super::*;
use crate::crypto::Ed25519Signer;
use crate::metadata::{DelegatedRole, Delegations, SuccinctRoles};
use crate::trusted::tests::{
    delegated_role, delegations, now, signer, succinct, targets_bytes, TestRepo,
};
use crate::Limits;

/// The role and chain a target was found in, if any.
type Resolved = Result<Option<(String, Vec<String>)>, Error>;

/// A repository of delegated roles: name → bytes, all listed in snapshot at version 1.
struct Graph {
    repo: TestRepo,
    top: Vec<u8>,
    roles: BTreeMap<String, Vec<u8>>,
}

impl Graph {
    fn new(top_delegations: Option<Delegations>, top_files: &[(&str, &[u8])]) -> Self {
        let repo = TestRepo::new();
        let top = targets_bytes(&repo.targets_key, 1, 30, top_files, top_delegations);
        Self {
            repo,
            top,
            roles: BTreeMap::new(),
        }
    }

    fn role(
        &mut self,
        name: &str,
        key: &Ed25519Signer,
        files: &[(&str, &[u8])],
        delegations: Option<Delegations>,
    ) -> &mut Self {
        self.roles.insert(
            name.to_owned(),
            targets_bytes(key, 1, 30, files, delegations),
        );
        self
    }

    fn state(&self, limits: Limits) -> TrustedState {
        let mut listed: Vec<(&str, u64)> = vec![("targets", 1)];
        listed.extend(self.roles.keys().map(|name| (name.as_str(), 1)));
        let mut state =
            TrustedState::new_from_root_with_limits(&self.repo.root_bytes(1, 365), now(), limits)
                .unwrap();
        let _ = state
            .update_timestamp(&self.repo.timestamp_bytes(1, 1, 1, None), now())
            .unwrap();
        state
            .update_snapshot(&self.repo.snapshot_bytes(1, &listed, 7), now())
            .unwrap();
        state.update_targets(&self.top, now()).unwrap();
        state
    }

    /// Run lookups to the end, loading what they ask for; the loads in order.
    fn resolve(&self, state: &mut TrustedState, path: &str) -> (Resolved, Vec<String>) {
        let path = TargetPath::parse(path).unwrap();
        let mut loads = Vec::new();
        loop {
            let step = match find_target(state, &path) {
                Ok(Lookup::Found { role, chain, .. }) => return (Ok(Some((role, chain))), loads),
                Ok(Lookup::NotFound { .. }) => return (Ok(None), loads),
                Ok(Lookup::Load { delegator, role }) => (delegator, role),
                Err(e) => return (Err(e), loads),
            };
            let (delegator, role) = step;
            loads.push(format!("{delegator}>{role}"));
            let bytes = self.roles.get(&role).expect("role in graph");
            if let Err(e) = state.update_delegated(&delegator, &role, bytes, now()) {
                return (Err(e), loads);
            }
        }
    }
}

/// Whether a finished walk of `path` found it, and the roles it reports it visited, in
/// order; each reported with the metadata `state` holds for it.
fn visited_roles(state: &TrustedState, path: &str) -> (bool, Vec<String>) {
    let path = TargetPath::parse(path).unwrap();
    let (found, visited) = match find_target(state, &path).unwrap() {
        Lookup::Found { visited, .. } => (true, visited),
        Lookup::NotFound { visited } => (false, visited),
        Lookup::Load { delegator, role } => panic!("walk not finished: {delegator}>{role}"),
    };
    for entry in &visited {
        let held = state.trusted_targets(&entry.role).unwrap();
        assert!(std::ptr::eq(entry.metadata, &**held), "{}", entry.role);
    }
    (found, visited.into_iter().map(|entry| entry.role).collect())
}

fn keys() -> (Ed25519Signer, Ed25519Signer, Ed25519Signer) {
    (signer(80), signer(81), signer(82))
}

#[test]
fn found_in_top_level_without_loading_anything() {
    let (k, _, _) = keys();
    let mut g = Graph::new(
        Some(delegations(
            &[&k],
            vec![delegated_role("a", &[&k], &["*"], false)],
        )),
        &[("x", b"1")],
    );
    g.role("a", &k, &[("x", b"2")], None);
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "x");
    assert_eq!(found.unwrap().unwrap().0, "targets");
    assert!(loads.is_empty());
}

/// targets → a (→ a1), b, every delegation for `*`.
fn two_subtrees(k: &Ed25519Signer, a1_files: &[(&str, &[u8])], b_files: &[(&str, &[u8])]) -> Graph {
    let mut g = Graph::new(
        Some(delegations(
            &[k],
            vec![
                delegated_role("a", &[k], &["*"], false),
                delegated_role("b", &[k], &["*"], false),
            ],
        )),
        &[],
    );
    g.role(
        "a",
        k,
        &[],
        Some(delegations(
            &[k],
            vec![delegated_role("a1", &[k], &["*"], false)],
        )),
    );
    g.role("a1", k, a1_files, None);
    g.role("b", k, b_files, None);
    g
}

#[test]
fn preorder_depth_first_in_listed_order() {
    let (k, _, _) = keys();
    let g = two_subtrees(&k, &[("x", b"from a1")], &[("x", b"from b")]);
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "x");
    let (role, chain) = found.unwrap().unwrap();
    assert_eq!(role, "a1");
    assert_eq!(chain, ["targets", "a", "a1"]);
    assert_eq!(loads, ["targets>a", "a>a1"]);
    // A path only b has: a's subtree first, then b.
    let (found, loads) = g.resolve(&mut state, "y");
    assert_eq!(found.unwrap(), None);
    assert_eq!(loads, ["targets>b"]);
}

#[test]
fn terminating_role_stops_the_search() {
    let (k, _, _) = keys();
    let mut g = Graph::new(
        Some(delegations(
            &[&k],
            vec![
                delegated_role("first", &[&k], &["*"], false),
                delegated_role("term", &[&k], &["*"], true),
                delegated_role("after", &[&k], &["*"], false),
            ],
        )),
        &[],
    );
    g.role("first", &k, &[], None);
    g.role("term", &k, &[], None);
    g.role("after", &k, &[("x", b"1")], None);
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "x");
    assert_eq!(found.unwrap(), None);
    assert_eq!(loads, ["targets>first", "targets>term"]);
    // The absence is reported as vouched for by the roles up to the terminating one.
    assert_eq!(
        visited_roles(&state, "x"),
        (false, vec!["targets".into(), "first".into(), "term".into()])
    );
}

#[test]
fn patterns_match_per_segment_and_case_sensitively() {
    let (k, _, _) = keys();
    let mut g = Graph::new(
        Some(delegations(
            &[&k],
            vec![
                delegated_role("star", &[&k], &["*"], false),
                delegated_role("upper", &[&k], &["Se/*/serde"], false),
                delegated_role("seg", &[&k], &["se/*/serd?"], false),
            ],
        )),
        &[],
    );
    g.role("star", &k, &[("se/rd/serde", b"star")], None);
    g.role("upper", &k, &[("se/rd/serde", b"upper")], None);
    g.role("seg", &k, &[("se/rd/serde", b"seg")], None);
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "se/rd/serde");
    // `*` does not cross `/`, `Se` is not `se`: only `seg` is asked.
    assert_eq!(found.unwrap().unwrap().0, "seg");
    assert_eq!(loads, ["targets>seg"]);
}

#[test]
fn path_hash_prefixes_select_roles() {
    let (k, _, _) = keys();
    let digest = hex::encode(crate::hash::sha256(b"3/a/abc"));
    let by_hash = |name: &str, prefix: &str| DelegatedRole {
        paths: None,
        path_hash_prefixes: Some(vec![prefix.to_owned()]),
        ..delegated_role(name, &[&k], &[], false)
    };
    let other_prefix = if digest.starts_with('0') { "1" } else { "0" };
    let mut g = Graph::new(
        Some(delegations(
            &[&k],
            vec![
                by_hash("other", other_prefix),
                by_hash("mine", &digest[..3]),
            ],
        )),
        &[],
    );
    g.role("other", &k, &[("3/a/abc", b"o")], None);
    g.role("mine", &k, &[("3/a/abc", b"m")], None);
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "3/a/abc");
    assert_eq!(found.unwrap().unwrap().0, "mine");
    assert_eq!(loads, ["targets>mine"]);
}

#[test]
fn succinct_bins_only_the_one_bin_is_asked() {
    let (k, _, _) = keys();
    let bins = succinct(&k, 3, "bin");
    let layout = bins.succinct_roles.clone().unwrap();
    let mut g = Graph::new(Some(bins), &[]);
    let path = "se/rd/serde";
    let mine = layout.role_for(path);
    for name in layout.bin_names() {
        // Every bin claims the path; only its own bin may be asked.
        g.role(&name, &k, &[(path, name.as_bytes())], None);
    }
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, path);
    assert_eq!(found.unwrap().unwrap().0, mine);
    assert_eq!(loads, [format!("targets>{mine}")]);
    // A path in another bin that is not listed there: not found, its bin only.
    let other = (0..100)
        .map(|i| format!("p{i}"))
        .find(|p| layout.role_for(p) != mine)
        .unwrap();
    let (found, loads) = g.resolve(&mut state, &other);
    assert_eq!(found.unwrap(), None);
    assert_eq!(loads, [format!("targets>{}", layout.role_for(&other))]);
    // The absence is reported as vouched for by that bin.
    assert_eq!(
        visited_roles(&state, &other),
        (false, vec!["targets".into(), layout.role_for(&other)])
    );
}

/// Bins of `bit_length` bits as a graph: delegated by `top` (succinct or classic), each
/// bin listing the paths of `listed` that fall in it; the layout too.
fn bin_graph(
    k: &Ed25519Signer,
    bit_length: u8,
    classic: bool,
    listed: &[String],
) -> (Graph, SuccinctRoles) {
    let bins = succinct(k, bit_length, "bin");
    let layout = bins.succinct_roles.clone().unwrap();
    let top = if classic {
        delegations(&[k], layout.to_delegated_roles().unwrap())
    } else {
        bins
    };
    let mut g = Graph::new(Some(top), &[]);
    for name in layout.bin_names() {
        let files: Vec<(&str, &[u8])> = listed
            .iter()
            .filter(|path| layout.role_for(path) == name)
            .map(|path| (path.as_str(), path.as_bytes()))
            .collect();
        g.role(&name, k, &files, None);
    }
    (g, layout)
}

fn some_paths() -> Vec<String> {
    (0..48).map(|i| format!("cr/at/crate-{i}")).collect()
}

#[test]
fn classic_hash_prefix_bins_answer_as_the_succinct_bins() {
    let (k, _, _) = keys();
    let paths = some_paths();
    let (listed, absent) = paths.split_at(32);
    // 3 bits: two hash prefixes a bin; 4 bits: one.
    for bit_length in [3, 4] {
        let (succinct_graph, layout) = bin_graph(&k, bit_length, false, listed);
        let (classic_graph, _) = bin_graph(&k, bit_length, true, listed);
        let mut succinct_state = succinct_graph.state(Limits::default());
        let mut classic_state = classic_graph.state(Limits::default());
        assert!(classic_state.classic_bins("targets").is_some());
        for path in listed.iter().chain(absent) {
            let (classic, classic_loads) = classic_graph.resolve(&mut classic_state, path);
            let (succinct, succinct_loads) = succinct_graph.resolve(&mut succinct_state, path);
            let bin = layout.role_for(path);
            let want = listed
                .contains(path)
                .then(|| (bin.clone(), vec!["targets".to_owned(), bin.clone()]));
            assert_eq!(classic.unwrap(), want, "{path}");
            assert_eq!(succinct.unwrap(), want, "{path}");
            assert_eq!(classic_loads, succinct_loads, "{path}");
            assert_eq!(
                visited_roles(&classic_state, path),
                visited_roles(&succinct_state, path),
                "{path}"
            );
            // What the search of TUF §5.6.7.2 would make of the classic roles.
            let path = TargetPath::parse(path).unwrap();
            let top = classic_state.targets().unwrap();
            assert_eq!(children_for(top, &path), (vec![bin], true));
        }
    }
}

#[test]
fn classic_bin_layout_is_worked_out_once_per_loaded_targets() {
    use crate::trusted::tests::CLASSIC_BIN_LAYOUTS_BUILT;
    let built = || CLASSIC_BIN_LAYOUTS_BUILT.with(std::cell::Cell::get);
    let (k, _, _) = keys();
    let paths = some_paths();
    let (g, _) = bin_graph(&k, 4, true, &paths);
    let before = built();
    let mut state = g.state(Limits::default());
    assert_eq!(built(), before + 1, "when targets is loaded");
    for path in &paths {
        assert!(g.resolve(&mut state, path).0.unwrap().is_some(), "{path}");
    }
    assert_eq!(built(), before + 1, "not again by lookups nor bin loads");
    // The next targets (a refresh) is a new state, with its own layout.
    let _next = g.state(Limits::default());
    assert_eq!(built(), before + 2);
}

#[test]
fn classic_roles_that_are_not_exactly_bins_are_searched_role_by_role() {
    let (k, _, _) = keys();
    let bins = succinct(&k, 2, "bin").succinct_roles.unwrap();
    let path = "se/rd/serde";
    let mine = bins.role_for(path);
    let mut roles = bins.to_delegated_roles().unwrap();
    for role in &mut roles {
        // Not terminating: no longer the bin layout; the search goes on after a match.
        role.terminating = false;
    }
    // A last role that also claims every path, which only a role-by-role search reaches.
    roles.push(delegated_role("extra", &[&k], &["*/*/*"], false));
    let mut g = Graph::new(Some(delegations(&[&k], roles)), &[]);
    for name in bins.bin_names() {
        g.role(&name, &k, &[], None);
    }
    g.role("extra", &k, &[(path, b"x")], None);
    let mut state = g.state(Limits::default());
    assert!(state.classic_bins("targets").is_none());
    let (found, loads) = g.resolve(&mut state, path);
    assert_eq!(found.unwrap().unwrap().0, "extra");
    assert_eq!(
        loads,
        [format!("targets>{mine}"), "targets>extra".to_owned()]
    );
}

#[test]
fn cycles_end_and_the_visited_cap_holds() {
    let (k, _, _) = keys();
    let to = |name: &str| {
        Some(delegations(
            &[&k],
            vec![delegated_role(name, &[&k], &["*"], false)],
        ))
    };
    let mut g = Graph::new(to("a"), &[]);
    g.role("a", &k, &[], to("b"));
    g.role("b", &k, &[], to("a"));
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "x");
    assert_eq!(found.unwrap(), None);
    assert_eq!(loads, ["targets>a", "a>b"]);

    // A chain longer than the cap: targets → r0 → r1 → ... → r9.
    let mut g = Graph::new(to("r0"), &[]);
    for i in 0..10 {
        g.role(&format!("r{i}"), &k, &[("x", b"deep")], None);
        if i < 9 {
            let next = format!("r{}", i + 1);
            g.role(&format!("r{i}"), &k, &[], to(&next));
        }
    }
    let limits = Limits {
        max_delegations_visited: 5,
        ..Limits::default()
    };
    let mut state = g.state(limits);
    let (found, loads) = g.resolve(&mut state, "x");
    assert_eq!(found.unwrap_err().code(), "too-many");
    assert_eq!(loads.len(), 4, "{loads:?}");
}

#[test]
fn role_absent_from_snapshot_is_never_requested() {
    let (k, _, _) = keys();
    let g = Graph::new(
        Some(delegations(
            &[&k],
            vec![delegated_role("ghost", &[&k], &["*"], false)],
        )),
        &[],
    );
    let state = g.state(Limits::default());
    let path = TargetPath::parse("x").unwrap();
    let err = find_target(&state, &path).unwrap_err();
    assert!(
        matches!(&err, Error::MissingRole { role } if role == "ghost"),
        "{err}"
    );
}

#[test]
fn diamond_uses_the_keys_of_the_delegator_of_this_lookup() {
    // targets → A (for a/*), B (for b/*); A and B both delegate to C, A with a key that
    // did not sign C. A lookup through B loads C; a later lookup through A must not use
    // that C.
    let (a_key, b_key, c_key) = keys();
    let wrong = signer(83);
    let mut g = Graph::new(
        Some(delegations(
            &[&a_key, &b_key],
            vec![
                delegated_role("A", &[&a_key], &["a/*"], false),
                delegated_role("B", &[&b_key], &["b/*"], false),
            ],
        )),
        &[],
    );
    g.role(
        "A",
        &a_key,
        &[],
        Some(delegations(
            &[&wrong],
            vec![delegated_role("C", &[&wrong], &["*/*"], false)],
        )),
    );
    g.role(
        "B",
        &b_key,
        &[],
        Some(delegations(
            &[&c_key],
            vec![delegated_role("C", &[&c_key], &["*/*"], false)],
        )),
    );
    g.role("C", &c_key, &[("a/evil", b"x"), ("b/good", b"y")], None);
    let mut state = g.state(Limits::default());
    let (found, loads) = g.resolve(&mut state, "b/good");
    assert_eq!(found.unwrap().unwrap().1, ["targets", "B", "C"]);
    assert_eq!(loads, ["targets>B", "B>C"]);
    let (found, loads) = g.resolve(&mut state, "a/evil");
    assert_eq!(found.unwrap_err().code(), "threshold");
    assert_eq!(loads, ["targets>A", "A>C"]);
}

#[test]
fn not_found_reports_every_role_it_visited() {
    // An absent path is vouched for by all four roles.
    let (k, _, _) = keys();
    let g = two_subtrees(&k, &[], &[("x", b"b")]);
    let mut state = g.state(Limits::default());
    assert_eq!(g.resolve(&mut state, "absent").0.unwrap(), None);
    assert_eq!(
        visited_roles(&state, "absent"),
        (
            false,
            vec!["targets".into(), "a".into(), "a1".into(), "b".into()]
        )
    );
    // Found: the roles read before the one that lists it are reported too.
    assert_eq!(
        g.resolve(&mut state, "x").0.unwrap().unwrap().1,
        ["targets", "b"]
    );
    assert_eq!(
        visited_roles(&state, "x"),
        (
            true,
            vec!["targets".into(), "a".into(), "a1".into(), "b".into()]
        )
    );
}
