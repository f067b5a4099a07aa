//! Architecture names and the LSTM state choice (docs/DESIGN.md section 3).
//!
//! [`Arch`] is also what the cells' code dispatches on: its pointwise `step` and `backward`
//! are defined beside the cells, in [`crate::cells`].

use std::fmt;
use std::str::FromStr;

/// The recurrent cell type of a stack: a vanilla RNN with `tanh` or ReLU, an LSTM or a GRU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    RnnTanh,
    RnnRelu,
    Lstm,
    Gru,
}

impl Arch {
    pub const ALL: [Arch; 4] = [Arch::RnnTanh, Arch::RnnRelu, Arch::Lstm, Arch::Gru];

    /// Number of gate row blocks in `weight_ih` / `weight_hh` (PyTorch layout).
    pub fn gates(self) -> usize {
        match self {
            Arch::RnnTanh | Arch::RnnRelu => 1,
            Arch::Lstm => 4,
            Arch::Gru => 3,
        }
    }

    /// Whether the cell carries a memory `c` besides `h` (LSTM).
    pub fn has_cell_state(self) -> bool {
        self == Arch::Lstm
    }

    /// Whether the hidden pre-activation gradient differs from the input one (GRU: the `n`
    /// gate's `U_n h + b_hn` is multiplied by `r`), and `h` reaches `h'` directly (`z h`).
    pub fn separate_hidden_path(self) -> bool {
        self == Arch::Gru
    }

    /// The command-line / metadata name (`rnn-tanh`, `rnn-relu`, `lstm`, `gru`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::RnnTanh => "rnn-tanh",
            Arch::RnnRelu => "rnn-relu",
            Arch::Lstm => "lstm",
            Arch::Gru => "gru",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown architecture '{0}': expected one of lstm, gru, rnn-tanh, rnn-relu")]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rnn-tanh" | "rnn_tanh" | "rnn" | "tanh" => Ok(Arch::RnnTanh),
            "rnn-relu" | "rnn_relu" | "relu" => Ok(Arch::RnnRelu),
            "lstm" => Ok(Arch::Lstm),
            "gru" => Ok(Arch::Gru),
            _ => Err(UnknownArch(s.to_string())),
        }
    }
}

/// Which state of an LSTM the spectrum is computed for (ignored by the other cells).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LstmState {
    /// The true state `(h, c)`: `2n` exponents per layer (the default).
    #[default]
    Full,
    /// The paper's choice: `h` only, `c` held fixed (`dh'/dh` block), `n` exponents per layer.
    Hidden,
}

impl LstmState {
    pub fn name(self) -> &'static str {
        match self {
            LstmState::Full => "full",
            LstmState::Hidden => "hidden",
        }
    }
}

impl FromStr for LstmState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(LstmState::Full),
            "hidden" => Ok(LstmState::Hidden),
            _ => Err(format!("unknown LSTM state '{s}': expected full or hidden")),
        }
    }
}
