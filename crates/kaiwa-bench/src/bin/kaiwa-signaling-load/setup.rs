//! What one column of the results measures: a server flavor, and for ours how many cluster nodes.

use crate::flavor::Flavor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    pub flavor: Flavor,
    /// `None`: one server on its own; `Some(n)`: n kaiwa-signaling nodes sharing a Redis.
    pub nodes: Option<usize>,
}

impl Setup {
    pub fn name(self) -> String {
        match self.nodes {
            None => self.flavor.name().to_owned(),
            Some(1) => "1 node + Redis".to_owned(),
            Some(n) => format!("{n} nodes + Redis"),
        }
    }
}
