//! When an SDP for the SFU may leave: it must carry every candidate (the server passes no trickle), so it
//! waits for ICE gathering to complete, or for a time limit, whichever comes first; and it leaves once.
//! Gathering completes once per connection: a later description on the same connection (the SFU's next
//! offer answered) leaves at once.

#[derive(Debug, Default)]
pub struct Gather {
    /// ICE gathering has completed on this connection.
    complete: bool,
    /// A description is set and not yet sent.
    waiting: bool,
    /// Counts descriptions, so a time limit set for an earlier one does not send a later one early.
    round: u64,
}

impl Gather {
    /// A local description was set. `None`: send it now; else wait, with this round for the time limit.
    pub fn described(&mut self) -> Option<u64> {
        self.round += 1;
        self.waiting = !self.complete;
        self.waiting.then_some(self.round)
    }

    /// Gathering completed: whether a description waits to be sent (now).
    pub fn completed(&mut self) -> bool {
        self.complete = true;
        std::mem::take(&mut self.waiting)
    }

    /// The time limit of `round` passed: whether that description still waits (send it now).
    pub fn timed_out(&mut self, round: u64) -> bool {
        if round == self.round && self.waiting {
            self.waiting = false;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_leaves_once_when_gathering_completes_or_time_runs_out() {
        let mut g = Gather::default();
        let round = g.described().expect("waits for gathering");
        assert!(g.completed());
        assert!(!g.timed_out(round), "already sent");
        // Gathering is done for good: the next description leaves at once.
        assert_eq!(g.described(), None);
        assert!(!g.completed());
    }

    #[test]
    fn only_the_time_limit_of_the_current_description_sends_it() {
        let mut g = Gather::default();
        let first = g.described().expect("waits");
        assert!(g.timed_out(first));
        let second = g.described().expect("still not gathered");
        assert!(!g.timed_out(first), "an earlier limit");
        assert!(g.timed_out(second));
        assert!(!g.completed(), "already sent");
    }
}
