//! Breadth-first exploration of set-up histories: every set-up step from every distinct state,
//! deduplicated by the model's canonical state key, up to a depth or until no new state appears.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::coverage::Closure;
use super::space::SetupSpace;
use super::state::{StateKey, StateSink};
use crate::check;
use crate::engine::{EngineKind, EngineSpec, Options, Settings};
use crate::model::{Model, VariantCard};
use crate::rt::PropertyId;
use crate::scene::SceneBounds;
use crate::verdict::Error;

/// One distinct state, reached by its first (shortest) set-up.
#[derive(Clone, Debug)]
pub struct Node {
    /// The set-up that first reached the state (a scene with no race).
    pub prefix: serde_json::Value,
    pub depth: u32,
    pub key: StateKey,
    /// One successor per distinct next state (steps that change nothing are left out): the
    /// moves a race from this state combines.
    pub moves: Vec<serde_json::Value>,
    /// Whether the set-up (or, where the model checks it, the set-up gone quiet) violated a
    /// property.
    pub violated: bool,
}

/// The states a set-up exploration reached.
#[derive(Debug, Default)]
pub struct SetupGraph {
    /// Every distinct state, in breadth-first order (shallow first).
    pub nodes: Vec<Node>,
    pub closure: Closure,
    /// New states per depth (index = set-up steps).
    pub per_depth: Vec<u64>,
    /// Set-ups executed (each from scratch: fresh system, boot, the steps in order).
    pub runs: u64,
    /// Properties a set-up violated (before its end, or once quiet where the model checks a
    /// set-up alone): the first set-up (a scene without a race) and the message.
    pub violations: BTreeMap<PropertyId, (serde_json::Value, String)>,
}

/// Runs set-ups of one variant's design and keys the states they reach.
struct Runner<'a> {
    model: &'static dyn Model,
    variant: &'static VariantCard,
    /// One execution suffices: a set-up is sequential (shuttle-random, one schedule).
    engine: EngineSpec,
    graph: &'a mut SetupGraph,
}

impl Runner<'_> {
    /// The state `prefix` reaches, and the properties its set-up violated.
    fn run(
        &mut self,
        prefix: &serde_json::Value,
    ) -> Result<(Option<StateKey>, BTreeMap<PropertyId, String>), Error> {
        let sink = StateSink::setup_only();
        let scenario = (self.model)
            .observe_for(self.variant, prefix, sink.clone())
            .map_err(Error::BadInput)?;
        let opts = Options {
            properties: self.model.properties().len(),
            ..Options::default()
        };
        let (x, _) =
            check::explore_minimal(&self.engine, &scenario, opts).map_err(
                |e| match Error::from(e) {
                    Error::ModelPanic(m) => Error::ModelPanic(format!("{m} (set-up {prefix})")),
                    other => other,
                },
            )?;
        self.graph.runs += 1;
        let found = x
            .found
            .into_iter()
            .map(|(p, f)| (p, f.violation.message))
            .collect();
        Ok((sink.take().setup, found))
    }

    /// Adds the state `prefix` reached at `depth` if it is new; returns its key.
    fn visit(
        &mut self,
        prefix: serde_json::Value,
        depth: u32,
        seen: &mut HashMap<StateKey, usize>,
    ) -> Result<Option<StateKey>, Error> {
        let (key, found) = self.run(&prefix)?;
        for (p, msg) in &found {
            (self.graph.violations)
                .entry(*p)
                .or_insert_with(|| (prefix.clone(), msg.clone()));
        }
        // A set-up that violated a property before its end (a livelock) reports no state.
        let Some(key) = key else {
            return Ok(None);
        };
        if !seen.contains_key(&key) {
            seen.insert(key.clone(), self.graph.nodes.len());
            self.graph.nodes.push(Node {
                prefix,
                depth,
                key: key.clone(),
                moves: vec![],
                violated: !found.is_empty(),
            });
            let d = depth as usize;
            if self.graph.per_depth.len() <= d {
                self.graph.per_depth.resize(d + 1, 0);
            }
            self.graph.per_depth[d] += 1;
        }
        Ok(Some(key))
    }
}

/// Explores the set-ups of `variant`'s design within `bounds` (systems up to `cpus`, set-ups of
/// at most `setup` steps), breadth first, until `deadline`.
pub fn explore(
    model: &'static dyn Model,
    variant: &'static VariantCard,
    space: &dyn SetupSpace,
    bounds: &SceneBounds,
    deadline: Option<Instant>,
) -> Result<SetupGraph, Error> {
    let mut graph = SetupGraph::default();
    let settings = Settings {
        schedules: 1,
        ..Settings::default()
    };
    let mut r = Runner {
        model,
        variant,
        engine: EngineKind::Dpor.spec(&settings),
        graph: &mut graph,
    };
    let mut seen: HashMap<StateKey, usize> = HashMap::new();
    for root in space.roots(bounds) {
        r.visit(root, 0, &mut seen)?;
    }
    let mut layer = 0..r.graph.nodes.len();
    let mut depth: u32 = 0;
    let closure = loop {
        if layer.is_empty() {
            break Closure::Closed {
                depth: depth.saturating_sub(1),
            };
        }
        if depth >= bounds.setup {
            break Closure::DepthLimit {
                depth,
                frontier: layer.len() as u64,
            };
        }
        let next_start = r.graph.nodes.len();
        for i in layer.clone() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                r.graph.closure = Closure::Budget {
                    depth,
                    frontier: (r.graph.nodes.len() - i) as u64,
                };
                return Ok(graph);
            }
            let own = r.graph.nodes[i].key.clone();
            let mut moved: Vec<StateKey> = vec![];
            let succs = space
                .successors(&r.graph.nodes[i].prefix)
                .map_err(Error::ModelPanic)?;
            for s in succs {
                let Some(key) = r.visit(s.clone(), depth + 1, &mut seen)? else {
                    continue;
                };
                if key != own && !moved.contains(&key) {
                    moved.push(key);
                    r.graph.nodes[i].moves.push(s);
                }
            }
        }
        layer = next_start..r.graph.nodes.len();
        depth += 1;
    };
    r.graph.closure = closure;
    Ok(graph)
}
