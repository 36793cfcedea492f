//! Random-action trajectories: the training data of a transition model.

/// `count` trajectories of `len` states each, with the action between consecutive states.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectories {
    /// State dimension `D`.
    pub state_dim: usize,
    /// Action dimension `A`.
    pub action_dim: usize,
    /// States per trajectory.
    pub len: usize,
    /// States, `[count, len, D]` row-major.
    pub states: Vec<f32>,
    /// Actions, `[count, len - 1, A]`: action `t` took state `t` to state `t + 1`.
    pub actions: Vec<f32>,
}

impl Trajectories {
    /// An empty set.
    pub fn new(state_dim: usize, action_dim: usize, len: usize) -> Self {
        assert!(len >= 2, "a trajectory needs at least two states");
        Self {
            state_dim,
            action_dim,
            len,
            states: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Appends one trajectory.
    ///
    /// # Panics
    ///
    /// If the lengths do not fit `len`, `D` and `A`.
    pub fn push(&mut self, states: &[f32], actions: &[f32]) {
        assert_eq!(
            states.len(),
            self.len * self.state_dim,
            "states of one trajectory"
        );
        assert_eq!(
            actions.len(),
            (self.len - 1) * self.action_dim,
            "actions of one trajectory"
        );
        self.states.extend_from_slice(states);
        self.actions.extend_from_slice(actions);
    }

    /// Number of trajectories.
    pub fn count(&self) -> usize {
        self.states.len() / (self.len * self.state_dim)
    }

    /// Number of transitions `(s_t, s_t+1)`.
    pub fn transitions(&self) -> usize {
        self.count() * (self.len - 1)
    }

    /// Transition `k` (trajectory-major) as `(s_t, a_t, s_t+1)`.
    pub fn transition(&self, k: usize) -> (&[f32], &[f32], &[f32]) {
        let (i, t) = (k / (self.len - 1), k % (self.len - 1));
        let d = self.state_dim;
        let s = (i * self.len + t) * d;
        let a = (i * (self.len - 1) + t) * self.action_dim;
        (
            &self.states[s..s + d],
            &self.actions[a..a + self.action_dim],
            &self.states[s + d..s + 2 * d],
        )
    }

    /// Splits off the last `fraction` of the trajectories (the reference holds out 10%).
    pub fn split(mut self, fraction: f64) -> (Self, Self) {
        let held = ((self.count() as f64) * fraction).round() as usize;
        let keep = self.count() - held;
        let mut test = Self::new(self.state_dim, self.action_dim, self.len);
        test.states = self.states.split_off(keep * self.len * self.state_dim);
        test.actions = self
            .actions
            .split_off(keep * (self.len - 1) * self.action_dim);
        (self, test)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_index_states_and_actions() {
        let mut t = Trajectories::new(1, 1, 3);
        t.push(&[0.0, 1.0, 2.0], &[10.0, 11.0]);
        t.push(&[5.0, 6.0, 7.0], &[20.0, 21.0]);
        assert_eq!((t.count(), t.transitions()), (2, 4));
        assert_eq!(t.transition(1), (&[1.0][..], &[11.0][..], &[2.0][..]));
        assert_eq!(t.transition(2), (&[5.0][..], &[20.0][..], &[6.0][..]));
        let (train, test) = t.split(0.5);
        assert_eq!((train.count(), test.count()), (1, 1));
        assert_eq!(test.transition(0).0, &[5.0]);
    }
}
