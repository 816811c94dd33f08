//! The graph of composite alarms in one region, for one question: does a rule close a cycle?
//!
//! AWS accepts cycles: a composite in a cycle stops being evaluated, and no member can be deleted
//! until one rule is changed (AWS suggests setting it to `FALSE`). So a cycle is found here and
//! refused before anything is written. (The order of creation and deletion needs no graph: a
//! composite waits for its children to exist, and an alarm waits while a composite names it.)
//!
//! Nodes are AWS alarm names (ARNs already reduced to names, see
//! [`child_names`](super::rule::child_names)). Only composites have outgoing edges; a child that
//! is not itself a composite in the graph (a metric alarm, or a composite managed elsewhere) is
//! a leaf. Every result is deterministic: names are visited in sorted order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Composite alarms and the alarms each one's rule names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompositeGraph {
    /// Composite → the alarm names its rule references.
    children: BTreeMap<String, BTreeSet<String>>,
}

/// A cycle of composites: each one references the next, and the last references the first.
/// A composite that references itself is a cycle of one.
pub type Cycle = Vec<String>;

/// `a → b → a`: a cycle written so that it closes on its first name.
pub fn describe_cycle(cycle: &[String]) -> String {
    let mut names: Vec<&str> = cycle.iter().map(String::as_str).collect();
    if let Some(first) = cycle.first() {
        names.push(first);
    }
    names.join(" → ")
}

impl CompositeGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `composite` with the alarm names its rule references, replacing what was recorded
    /// for it before.
    pub fn insert<C: Into<String>>(
        &mut self,
        composite: impl Into<String>,
        children: impl IntoIterator<Item = C>,
    ) {
        self.children.insert(
            composite.into(),
            children.into_iter().map(Into::into).collect(),
        );
    }

    /// Composite children of `composite` (children that are composites in this graph), sorted.
    fn composite_children<'a>(&'a self, composite: &str) -> impl Iterator<Item = &'a String> {
        self.children
            .get(composite)
            .into_iter()
            .flatten()
            .filter(|child| self.children.contains_key(child.as_str()))
    }

    /// The shortest cycle `composite` is on, starting with `composite`, or `None` if it is on
    /// none. Ties are broken by sorted order of names. Breadth-first, so a long chain of
    /// composites cannot exhaust the stack.
    pub fn cycle_through(&self, composite: &str) -> Option<Cycle> {
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([composite]);
        while let Some(node) = queue.pop_front() {
            for child in self.composite_children(node) {
                let child = child.as_str();
                if child == composite {
                    let mut cycle = vec![node.to_owned()];
                    let mut at = node;
                    while at != composite {
                        at = came_from[at];
                        cycle.push(at.to_owned());
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if !came_from.contains_key(child) {
                    came_from.insert(child, node);
                    queue.push_back(child);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graph<'a>(edges: impl IntoIterator<Item = (&'a str, &'a [&'a str])>) -> CompositeGraph {
        let mut graph = CompositeGraph::new();
        for (composite, children) in edges {
            graph.insert(composite, children.iter().copied());
        }
        graph
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn composite_referencing_itself_is_a_cycle_of_one() {
        let graph = graph([("self", &["self", "cpu"][..])]);
        assert_eq!(graph.cycle_through("self"), Some(names(&["self"])));
        assert_eq!(describe_cycle(&names(&["self"])), "self → self");
    }

    #[test]
    fn reported_cycle_is_the_shortest_through_the_composite() {
        // a → b → c → a and a → c → a: the second is shorter.
        let graph = graph([("a", &["b", "c"][..]), ("b", &["c"][..]), ("c", &["a"][..])]);
        assert_eq!(graph.cycle_through("a"), Some(names(&["a", "c"])));
        assert_eq!(graph.cycle_through("b"), Some(names(&["b", "c", "a"])));
    }

    #[test]
    fn composite_depending_on_a_cycle_is_not_on_it() {
        let graph = graph([
            ("a", &["b"][..]),
            ("b", &["a"][..]),
            ("parent", &["a"][..]),
            ("other", &["cpu"][..]),
        ]);
        assert_eq!(graph.cycle_through("parent"), None);
        assert_eq!(graph.cycle_through("other"), None);
        assert_eq!(graph.cycle_through("a"), Some(names(&["a", "b"])));
    }

    #[test]
    fn a_new_rule_replaces_the_recorded_one() {
        let mut g = graph([("a", &["b"][..]), ("b", &["a"][..])]);
        g.insert("b", ["cpu"]);
        assert_eq!(g.cycle_through("a"), None);
    }

    #[test]
    fn long_rings_do_not_exhaust_the_stack() {
        let count = 20_000;
        let name = |i: usize| format!("c{i:05}");
        let mut ring = CompositeGraph::new();
        for i in 0..count {
            ring.insert(name(i), [name((i + 1) % count)]);
        }
        let cycle = ring.cycle_through(&name(0)).unwrap();
        assert_eq!(cycle.len(), count);
        assert_eq!(cycle.last(), Some(&name(count - 1)));
    }

    /// Up to 8 composites `n0`..`n7` naming children among `n0`..`n9` (`n8`, `n9` are never
    /// composites, like metric alarms).
    fn graph_strategy() -> impl Strategy<Value = CompositeGraph> {
        prop::collection::btree_map(0..8u8, prop::collection::btree_set(0..10u8, 0..4), 0..8)
            .prop_map(|edges| {
                let mut graph = CompositeGraph::new();
                for (composite, children) in edges {
                    graph.insert(
                        format!("n{composite}"),
                        children.into_iter().map(|child| format!("n{child}")),
                    );
                }
                graph
            })
    }

    /// Whether `to` is reachable from `from` by one or more edges, by exhaustive search.
    fn reaches(graph: &CompositeGraph, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = graph
            .children
            .get(from)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        while let Some(node) = todo.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node.clone()) {
                todo.extend(graph.children.get(&node).into_iter().flatten().cloned());
            }
        }
        false
    }

    fn is_closed_walk(graph: &CompositeGraph, cycle: &[String]) -> bool {
        let distinct: BTreeSet<&String> = cycle.iter().collect();
        !cycle.is_empty()
            && distinct.len() == cycle.len()
            && cycle.iter().enumerate().all(|(i, node)| {
                let next = &cycle[(i + 1) % cycle.len()];
                graph
                    .children
                    .get(node)
                    .is_some_and(|children| children.contains(next))
            })
    }

    proptest! {
        #[test]
        fn a_composite_is_on_a_cycle_exactly_when_it_reaches_itself(graph in graph_strategy()) {
            for composite in graph.children.keys() {
                let cycle = graph.cycle_through(composite);
                prop_assert_eq!(cycle.is_some(), reaches(&graph, composite, composite));
                if let Some(cycle) = cycle {
                    prop_assert_eq!(cycle.first(), Some(composite));
                    prop_assert!(is_closed_walk(&graph, &cycle), "{:?}", cycle);
                }
            }
        }
    }
}
