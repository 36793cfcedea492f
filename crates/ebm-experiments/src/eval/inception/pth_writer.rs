//! A writer of PyTorch's legacy `torch.save` format (`_use_new_zipfile_serialization=False`,
//! the format of files saved before PyTorch 1.6) for a `state_dict` of `f32` tensors, so the
//! tests can hand burn-store's PyTorch reader a `.pth` file without PyTorch.
//!
//! The file is five protocol-2 pickles and the raw storages: the magic number, the protocol
//! version 1001, the system info (little endian, type sizes), the `OrderedDict` of tensors
//! (each `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`,
//! its storage a persistent id `('storage', torch.FloatStorage, key, 'cpu', numel, None)`),
//! the list of storage keys; then per storage its element count (`u64`, little endian) and
//! its bytes. Only the opcodes PyTorch emits for such a dict are written. `torch.load` reads
//! the result back tensor for tensor (`torch_tests`, where a PyTorch is present).

/// One tensor of the `state_dict`.
pub struct PthTensor {
    /// Its key.
    pub name: String,
    /// Its size.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// Pickle opcodes used here (protocol 2).
mod op {
    pub const PROTO: u8 = 0x80;
    pub const STOP: u8 = b'.';
    pub const LONG1: u8 = 0x8a;
    pub const BININT1: u8 = b'K';
    pub const BININT2: u8 = b'M';
    pub const BININT: u8 = b'J';
    pub const BINUNICODE: u8 = b'X';
    pub const GLOBAL: u8 = b'c';
    pub const MARK: u8 = b'(';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const EMPTY_DICT: u8 = b'}';
    pub const EMPTY_LIST: u8 = b']';
    pub const SETITEMS: u8 = b'u';
    pub const APPENDS: u8 = b'e';
    pub const REDUCE: u8 = b'R';
    pub const BINPERSID: u8 = b'Q';
    pub const NONE: u8 = b'N';
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
}

/// `torch.serialization.MAGIC_NUMBER`, little endian.
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

struct Pickle(Vec<u8>);

impl Pickle {
    fn start(out: Vec<u8>) -> Self {
        let mut p = Pickle(out);
        p.0.extend([op::PROTO, 2]);
        p
    }

    fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }

    fn int(&mut self, v: usize) -> &mut Self {
        if v < 1 << 8 {
            self.0.extend([op::BININT1, v as u8]);
        } else if v < 1 << 16 {
            self.0.push(op::BININT2);
            self.0.extend((v as u16).to_le_bytes());
        } else {
            let v = i32::try_from(v).expect("sizes below 2^31");
            self.0.push(op::BININT);
            self.0.extend(v.to_le_bytes());
        }
        self
    }

    fn str(&mut self, s: &str) -> &mut Self {
        self.0.push(op::BINUNICODE);
        self.0.extend((s.len() as u32).to_le_bytes());
        self.0.extend(s.as_bytes());
        self
    }

    fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.0.push(op::GLOBAL);
        self.0.extend(format!("{module}\n{name}\n").as_bytes());
        self
    }

    fn tuple(&mut self, items: &[usize]) -> &mut Self {
        self.byte(op::MARK);
        for &i in items {
            self.int(i);
        }
        self.byte(op::TUPLE)
    }

    fn stop(mut self) -> Vec<u8> {
        self.0.push(op::STOP);
        self.0
    }
}

/// The bytes of a legacy `.pth` file holding `tensors` as an `OrderedDict`, in order.
pub fn legacy_pth(tensors: &[PthTensor]) -> Vec<u8> {
    let mut p = Pickle::start(Vec::new());
    p.byte(op::LONG1).byte(MAGIC.len() as u8);
    p.0.extend(MAGIC);
    let out = p.stop();

    let mut p = Pickle::start(out);
    p.int(1001);
    let out = p.stop();

    let mut p = Pickle::start(out);
    p.byte(op::EMPTY_DICT).byte(op::MARK);
    p.str("protocol_version").int(1001);
    p.str("little_endian").byte(op::NEWTRUE);
    p.str("type_sizes").byte(op::EMPTY_DICT).byte(op::MARK);
    p.str("short").int(2).str("int").int(4).str("long").int(4);
    p.byte(op::SETITEMS).byte(op::SETITEMS);
    let out = p.stop();

    let mut p = Pickle::start(out);
    p.global("collections", "OrderedDict")
        .byte(op::EMPTY_TUPLE)
        .byte(op::REDUCE)
        .byte(op::MARK);
    for (i, t) in tensors.iter().enumerate() {
        let numel: usize = t.shape.iter().product();
        assert_eq!(numel, t.values.len(), "{}: shape and values differ", t.name);
        let mut stride = vec![1; t.shape.len()];
        for d in (0..t.shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * t.shape[d + 1];
        }
        p.str(&t.name);
        p.global("torch._utils", "_rebuild_tensor_v2")
            .byte(op::MARK);
        p.byte(op::MARK)
            .str("storage")
            .global("torch", "FloatStorage")
            .str(&i.to_string())
            .str("cpu")
            .int(numel)
            .byte(op::NONE)
            .byte(op::TUPLE)
            .byte(op::BINPERSID);
        p.int(0).tuple(&t.shape).tuple(&stride).byte(op::NEWFALSE);
        p.global("collections", "OrderedDict")
            .byte(op::EMPTY_TUPLE)
            .byte(op::REDUCE);
        p.byte(op::TUPLE).byte(op::REDUCE);
    }
    p.byte(op::SETITEMS);
    let out = p.stop();

    let mut p = Pickle::start(out);
    p.byte(op::EMPTY_LIST).byte(op::MARK);
    for i in 0..tensors.len() {
        p.str(&i.to_string());
    }
    p.byte(op::APPENDS);
    let mut out = p.stop();

    for t in tensors {
        out.extend((t.values.len() as u64).to_le_bytes());
        for v in &t.values {
            out.extend(v.to_le_bytes());
        }
    }
    out
}
