//! The dependency graph of composite alarms in one region, and the orders it imposes.
//!
//! AWS accepts a composite only once every alarm its rule names exists, refuses to delete an
//! alarm still named in a composite's rule, and accepts cycles: a composite in a cycle stops
//! being evaluated, and no member can be deleted until one rule is changed (AWS suggests setting
//! it to `FALSE`). So cycles are found here, before anything is written, and creation and
//! deletion follow the edges: children before parents, parents before children.
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
    /// Alarm → the composites whose rules reference it (the inverse of `children`).
    parents: BTreeMap<String, BTreeSet<String>>,
}

/// A cycle of composites: each one references the next, and the last references the first.
/// A composite that references itself is a cycle of one.
pub type Cycle = Vec<String>;

/// Composites that cannot be ordered because they are in a cycle or depend on one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_cycles(.cycles))]
pub struct CycleError {
    /// One cycle per group of composites that reference each other, as in
    /// [`CompositeGraph::cycles`].
    pub cycles: Vec<Cycle>,
    /// Every composite in a cycle or depending on one (directly or through other composites),
    /// sorted. Composites not listed here can still be ordered on their own.
    pub blocked: Vec<String>,
}

fn describe_cycles(cycles: &[Cycle]) -> String {
    let cycles: Vec<String> = cycles.iter().map(|cycle| describe_cycle(cycle)).collect();
    format!(
        "composite alarms reference each other in a cycle, which AWS would stop evaluating: {}",
        cycles.join("; ")
    )
}

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
        let composite = composite.into();
        self.remove(&composite);
        let children: BTreeSet<String> = children.into_iter().map(Into::into).collect();
        for child in &children {
            self.parents
                .entry(child.clone())
                .or_default()
                .insert(composite.clone());
        }
        self.children.insert(composite, children);
    }

    /// Forgets `composite` (its edges; it stays a leaf if other composites still name it).
    pub fn remove(&mut self, composite: &str) {
        let Some(children) = self.children.remove(composite) else {
            return;
        };
        for child in children {
            if let Some(parents) = self.parents.get_mut(&child) {
                parents.remove(composite);
                if parents.is_empty() {
                    self.parents.remove(&child);
                }
            }
        }
    }

    /// The composites recorded, sorted.
    pub fn composites(&self) -> impl Iterator<Item = &str> {
        self.children.keys().map(String::as_str)
    }

    /// The alarms `composite`'s rule references, if it is recorded.
    pub fn children_of(&self, composite: &str) -> Option<&BTreeSet<String>> {
        self.children.get(composite)
    }

    /// The composites whose rules reference `alarm`, sorted. While this is not empty, AWS refuses
    /// to delete `alarm`, so its deletion waits.
    pub fn parents_of(&self, alarm: &str) -> Vec<&str> {
        self.parents
            .get(alarm)
            .map(|parents| parents.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Composite children of `composite` (children that are composites in this graph), sorted.
    fn composite_children<'a>(&'a self, composite: &str) -> impl Iterator<Item = &'a String> {
        self.children
            .get(composite)
            .into_iter()
            .flatten()
            .filter(|child| self.children.contains_key(child.as_str()))
    }

    /// Every cycle, as one representative per group of composites that reach each other (a
    /// strongly connected component): the shortest cycle through the group's first name in
    /// sorted order, starting with that name. Sorted by first name. Empty when there is none.
    ///
    /// Listing every elementary cycle could be exponential; one per group names every group
    /// and is enough to say which rule to change. [`cycle_through`](Self::cycle_through) gives
    /// the cycle a particular composite is on.
    pub fn cycles(&self) -> Vec<Cycle> {
        self.strongly_connected_components()
            .into_iter()
            .filter_map(|component| {
                let first = component.first()?;
                let members: BTreeSet<&str> = component.iter().map(String::as_str).collect();
                self.shortest_cycle(first, &members)
            })
            .collect()
    }

    /// The shortest cycle `composite` is on, starting with `composite`, or `None` if it is on
    /// none. Ties are broken by sorted order of names.
    pub fn cycle_through(&self, composite: &str) -> Option<Cycle> {
        let all: BTreeSet<&str> = self.children.keys().map(String::as_str).collect();
        self.shortest_cycle(composite, &all)
    }

    /// Breadth-first search from `start` back to `start`, staying within `within`.
    fn shortest_cycle(&self, start: &str, within: &BTreeSet<&str>) -> Option<Cycle> {
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for child in self.composite_children(node) {
                let child = child.as_str();
                if child == start {
                    let mut cycle = vec![node.to_owned()];
                    let mut at = node;
                    while at != start {
                        at = came_from[at];
                        cycle.push(at.to_owned());
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if within.contains(child) && !came_from.contains_key(child) {
                    came_from.insert(child, node);
                    queue.push_back(child);
                }
            }
        }
        None
    }

    /// Strongly connected components that contain a cycle (more than one member, or a member
    /// that references itself), each sorted, in the order of their first member. Tarjan's
    /// algorithm, iterative so that a long chain of composites cannot exhaust the stack.
    fn strongly_connected_components(&self) -> Vec<Vec<String>> {
        struct Frame<'a> {
            node: &'a str,
            children: Vec<&'a str>,
            next: usize,
        }

        let mut index_of: BTreeMap<&str, usize> = BTreeMap::new();
        let mut low: BTreeMap<&str, usize> = BTreeMap::new();
        let mut on_stack: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = Vec::new();
        let mut components = Vec::new();

        for root in self.children.keys() {
            if index_of.contains_key(root.as_str()) {
                continue;
            }
            let mut frames = vec![Frame {
                node: root,
                children: self.composite_children(root).map(String::as_str).collect(),
                next: 0,
            }];
            index_of.insert(root, index_of.len());
            low.insert(root, index_of[root.as_str()]);
            stack.push(root);
            on_stack.insert(root);

            while let Some(frame) = frames.last_mut() {
                let node = frame.node;
                if let Some(&child) = frame.children.get(frame.next) {
                    frame.next += 1;
                    if !index_of.contains_key(child) {
                        let index = index_of.len();
                        index_of.insert(child, index);
                        low.insert(child, index);
                        stack.push(child);
                        on_stack.insert(child);
                        frames.push(Frame {
                            node: child,
                            children: self.composite_children(child).map(String::as_str).collect(),
                            next: 0,
                        });
                    } else if on_stack.contains(child) {
                        let lowest = low[node].min(index_of[child]);
                        low.insert(node, lowest);
                    }
                    continue;
                }
                frames.pop();
                if let Some(parent) = frames.last() {
                    let lowest = low[parent.node].min(low[node]);
                    low.insert(parent.node, lowest);
                }
                if low[node] == index_of[node] {
                    let mut component = Vec::new();
                    while let Some(member) = stack.pop() {
                        on_stack.remove(member);
                        component.push(member.to_owned());
                        if member == node {
                            break;
                        }
                    }
                    let cyclic = component.len() > 1
                        || self.composite_children(node).any(|child| child == node);
                    if cyclic {
                        component.sort();
                        components.push(component);
                    }
                }
            }
        }
        components.sort();
        components
    }

    /// The composites in an order to create them: every composite after each composite its rule
    /// references, ties broken by name. Fails when composites reference each other in a cycle.
    pub fn creation_order(&self) -> Result<Vec<String>, CycleError> {
        // Kahn's algorithm: a composite is ready once all its composite children are placed.
        let mut waiting_on: BTreeMap<&str, usize> = self
            .children
            .keys()
            .map(|composite| {
                (
                    composite.as_str(),
                    self.composite_children(composite).count(),
                )
            })
            .collect();
        let mut ready: BTreeSet<&str> = waiting_on
            .iter()
            .filter(|(_, waiting)| **waiting == 0)
            .map(|(composite, _)| *composite)
            .collect();
        let mut order = Vec::with_capacity(self.children.len());
        while let Some(composite) = ready.pop_first() {
            order.push(composite.to_owned());
            for parent in self.parents.get(composite).into_iter().flatten() {
                let waiting = waiting_on
                    .get_mut(parent.as_str())
                    .expect("every parent is a recorded composite");
                *waiting -= 1;
                if *waiting == 0 {
                    ready.insert(parent);
                }
            }
        }
        if order.len() == self.children.len() {
            return Ok(order);
        }
        let placed: BTreeSet<&str> = order.iter().map(String::as_str).collect();
        Err(CycleError {
            cycles: self.cycles(),
            blocked: self
                .children
                .keys()
                .filter(|composite| !placed.contains(composite.as_str()))
                .cloned()
                .collect(),
        })
    }

    /// The composites in an order to delete them: every composite before each composite its
    /// rule references (the reverse of [`creation_order`](Self::creation_order)). Fails when
    /// composites reference each other in a cycle: AWS refuses to delete any of them until one
    /// rule no longer closes the cycle.
    pub fn deletion_order(&self) -> Result<Vec<String>, CycleError> {
        let mut order = self.creation_order()?;
        order.reverse();
        Ok(order)
    }
}

impl<C, S> FromIterator<(C, S)> for CompositeGraph
where
    C: Into<String>,
    S: IntoIterator,
    S::Item: Into<String>,
{
    fn from_iter<I: IntoIterator<Item = (C, S)>>(iter: I) -> Self {
        let mut graph = CompositeGraph::new();
        for (composite, children) in iter {
            graph.insert(composite, children);
        }
        graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graph(edges: &[(&str, &[&str])]) -> CompositeGraph {
        edges
            .iter()
            .map(|(composite, children)| (*composite, children.iter().copied()))
            .collect()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn children_are_created_before_parents_and_deleted_after() {
        // top → mid → leaf composite → metric alarm
        let graph = graph(&[
            ("top", &["mid", "cpu"]),
            ("mid", &["leaf"]),
            ("leaf", &["cpu"]),
        ]);
        assert_eq!(graph.creation_order(), Ok(names(&["leaf", "mid", "top"])));
        assert_eq!(graph.deletion_order(), Ok(names(&["top", "mid", "leaf"])));
    }

    #[test]
    fn metric_alarm_children_are_not_in_the_order() {
        let graph = graph(&[("composite", &["cpu", "disk"])]);
        assert_eq!(graph.creation_order(), Ok(names(&["composite"])));
    }

    #[test]
    fn independent_composites_are_ordered_by_name() {
        let graph = graph(&[("zeta", &["m"]), ("alpha", &["m"]), ("mu", &[])]);
        assert_eq!(graph.creation_order(), Ok(names(&["alpha", "mu", "zeta"])));
    }

    #[test]
    fn shared_child_of_a_diamond_comes_first() {
        let graph = graph(&[
            ("top", &["left", "right"]),
            ("left", &["bottom"]),
            ("right", &["bottom"]),
            ("bottom", &["cpu"]),
        ]);
        assert_eq!(
            graph.creation_order(),
            Ok(names(&["bottom", "left", "right", "top"]))
        );
    }

    #[test]
    fn composite_referencing_itself_is_a_cycle_of_one() {
        let graph = graph(&[("self", &["self", "cpu"])]);
        assert_eq!(graph.cycles(), vec![names(&["self"])]);
        assert_eq!(graph.cycle_through("self"), Some(names(&["self"])));
        assert_eq!(describe_cycle(&names(&["self"])), "self → self");
    }

    #[test]
    fn each_group_of_mutually_referencing_composites_is_reported_once() {
        let graph = graph(&[
            ("b", &["c"]),
            ("c", &["a"]),
            ("a", &["b"]),
            ("y", &["x"]),
            ("x", &["y"]),
            ("fine", &["cpu"]),
        ]);
        assert_eq!(
            graph.cycles(),
            vec![names(&["a", "b", "c"]), names(&["x", "y"])]
        );
    }

    #[test]
    fn reported_cycle_is_the_shortest_through_the_first_name() {
        // a → b → c → a and a → c → a: the second is shorter.
        let graph = graph(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(graph.cycles(), vec![names(&["a", "c"])]);
        assert_eq!(graph.cycle_through("b"), Some(names(&["b", "c", "a"])));
    }

    #[test]
    fn composite_depending_on_a_cycle_is_blocked_but_not_in_it() {
        let graph = graph(&[
            ("a", &["b"]),
            ("b", &["a"]),
            ("parent", &["a"]),
            ("other", &["cpu"]),
        ]);
        assert_eq!(graph.cycle_through("parent"), None);
        let error = graph.creation_order().unwrap_err();
        assert_eq!(
            error,
            CycleError {
                cycles: vec![names(&["a", "b"])],
                blocked: names(&["a", "b", "parent"]),
            }
        );
        assert_eq!(
            error.to_string(),
            "composite alarms reference each other in a cycle, which AWS would stop evaluating: \
             a → b → a"
        );
        assert_eq!(graph.deletion_order(), Err(error));
    }

    #[test]
    fn parents_are_the_composites_whose_rules_name_the_alarm() {
        let mut graph = graph(&[("p2", &["cpu", "disk"]), ("p1", &["cpu"])]);
        assert_eq!(graph.parents_of("cpu"), vec!["p1", "p2"]);
        assert_eq!(graph.parents_of("disk"), vec!["p2"]);
        assert!(graph.parents_of("unknown").is_empty());

        // A changed rule replaces the composite's edges.
        graph.insert("p2", ["disk"]);
        assert_eq!(graph.parents_of("cpu"), vec!["p1"]);
        graph.remove("p1");
        assert!(graph.parents_of("cpu").is_empty());
        assert_eq!(graph.composites().collect::<Vec<_>>(), vec!["p2"]);
        assert_eq!(
            graph.children_of("p2"),
            Some(&BTreeSet::from(["disk".to_owned()]))
        );
    }

    #[test]
    fn long_chains_and_cycles_do_not_exhaust_the_stack() {
        let count = 20_000;
        let name = |i: usize| format!("c{i:05}");
        let chain: CompositeGraph = (0..count)
            .map(|i| (name(i), (i + 1 < count).then(|| name(i + 1))))
            .collect();
        let order = chain.creation_order().unwrap();
        assert_eq!(order.first(), Some(&name(count - 1)));
        assert_eq!(order.last(), Some(&name(0)));

        let mut ring = chain;
        ring.insert(name(count - 1), [name(0)]);
        let cycles = ring.cycles();
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), count);
    }

    // --- properties --------------------------------------------------------------------------

    /// Up to 8 composites `n0`..`n7` naming children among `n0`..`n9` (`n8`, `n9` are never
    /// composites, like metric alarms).
    fn graph_strategy() -> impl Strategy<Value = CompositeGraph> {
        prop::collection::btree_map(0..8u8, prop::collection::btree_set(0..10u8, 0..4), 0..8)
            .prop_map(|edges| {
                edges
                    .into_iter()
                    .map(|(composite, children)| {
                        (
                            format!("n{composite}"),
                            children.into_iter().map(|child| format!("n{child}")),
                        )
                    })
                    .collect()
            })
    }

    /// Whether `to` is reachable from `from` by one or more edges, by exhaustive search.
    fn reaches(graph: &CompositeGraph, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = graph
            .children_of(from)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        while let Some(node) = todo.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node.clone()) {
                todo.extend(graph.children_of(&node).into_iter().flatten().cloned());
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
                    .children_of(node)
                    .is_some_and(|children| children.contains(next))
            })
    }

    proptest! {
        #[test]
        fn a_composite_is_on_a_cycle_exactly_when_it_reaches_itself(graph in graph_strategy()) {
            for composite in graph.composites() {
                let cycle = graph.cycle_through(composite);
                prop_assert_eq!(cycle.is_some(), reaches(&graph, composite, composite));
                if let Some(cycle) = cycle {
                    prop_assert_eq!(cycle.first().map(String::as_str), Some(composite));
                    prop_assert!(is_closed_walk(&graph, &cycle), "{:?}", cycle);
                }
            }
        }

        #[test]
        fn every_cyclic_group_is_reported_once_with_a_real_cycle(graph in graph_strategy()) {
            let cycles = graph.cycles();
            for cycle in &cycles {
                prop_assert!(is_closed_walk(&graph, cycle), "{:?}", cycle);
            }
            for composite in graph.composites() {
                // The reported cycles whose members `composite` can reach and be reached from.
                let groups = cycles
                    .iter()
                    .filter(|cycle| {
                        cycle[0] == composite
                            || (reaches(&graph, composite, &cycle[0])
                                && reaches(&graph, &cycle[0], composite))
                    })
                    .count();
                let expected = usize::from(reaches(&graph, composite, composite));
                prop_assert_eq!(groups, expected, "{}", composite);
            }
        }

        #[test]
        fn without_cycles_every_child_is_created_before_its_parents(graph in graph_strategy()) {
            let acyclic = graph.composites().all(|composite| !reaches(&graph, composite, composite));
            prop_assert_eq!(graph.creation_order().is_ok(), acyclic);
            prop_assert_eq!(graph.cycles().is_empty(), acyclic);
            if let Ok(order) = graph.creation_order() {
                let composites: Vec<&str> = graph.composites().collect();
                let mut sorted: Vec<&str> = order.iter().map(String::as_str).collect();
                sorted.sort();
                prop_assert_eq!(sorted, composites);
                let position = |name: &str| order.iter().position(|placed| placed == name);
                for parent in graph.composites() {
                    for child in graph.children_of(parent).into_iter().flatten() {
                        if let Some(child_at) = position(child) {
                            prop_assert!(child_at < position(parent).unwrap());
                        }
                    }
                }
                let mut deletion = graph.deletion_order().unwrap();
                deletion.reverse();
                prop_assert_eq!(deletion, order);
            }
        }

        #[test]
        fn with_cycles_exactly_the_composites_reaching_one_are_blocked(
            graph in graph_strategy(),
        ) {
            if let Err(error) = graph.creation_order() {
                let expected: Vec<String> = graph
                    .composites()
                    .filter(|composite| {
                        graph.composites().any(|member| {
                            reaches(&graph, member, member)
                                && (*composite == member || reaches(&graph, composite, member))
                        })
                    })
                    .map(str::to_owned)
                    .collect();
                prop_assert_eq!(error.blocked, expected);
                prop_assert_eq!(error.cycles, graph.cycles());
            }
        }

        #[test]
        fn parents_are_the_inverse_of_children(graph in graph_strategy()) {
            for node in (0..10).map(|i| format!("n{i}")) {
                let expected: Vec<&str> = graph
                    .composites()
                    .filter(|composite| {
                        graph.children_of(composite).is_some_and(|children| children.contains(&node))
                    })
                    .collect();
                prop_assert_eq!(graph.parents_of(&node), expected);
            }
        }
    }
}
