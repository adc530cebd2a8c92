//! x86-64 instruction lengths (64-bit mode), for verifying syscall sites.
//!
//! The fast path rewrites `mov eax, NR; syscall` only when it knows the
//! `mov` is an instruction, not the tail of a longer one whose bytes happen
//! to read `b8 NR`: it decodes forward from a known boundary (a function's
//! start, from the unwind table) with [`length`] until it lands on the
//! site. So [`length`] must never be wrong: anything it does not fully
//! know gives None, and the caller leaves that site to the trap path.
//!
//! Table-driven: every opcode of the one-byte and 0F maps has a class
//! (ModRM or not, immediate size); the few whose length depends on more
//! (operand or address size, ModRM.reg) are handled by name. VEX and
//! EVEX follow their map. Returns None for: truncated input, more than 15
//! bytes, opcodes invalid in 64-bit mode, 3DNow! (0F 0F) and XOP (8F with
//! ModRM.reg != 0), a REX not directly before the opcode, legacy prefixes
//! before VEX/EVEX, EVEX maps other than 1, 2, 3, 5, 6 and APX's EVEX forms,
//! and 66-prefixed rel32 branches (Intel ignores the 66, AMD makes them
//! rel16: their length depends on the CPU).

/// The longest instruction the CPU accepts (longer ones fault).
pub const MAX_LEN: usize = 15;

// Opcode classes, one letter per opcode in the tables below.
/// Opcode only.
const N: u8 = b'n';
/// ModRM (with SIB and displacement).
const M: u8 = b'm';
/// imm8.
const IB: u8 = b'b';
/// imm16.
const IW: u8 = b'w';
/// imm16 or imm32, by operand size.
const IZ: u8 = b'z';
/// ModRM, imm8.
const MB: u8 = b'B';
/// ModRM, imm16/32.
const MZ: u8 = b'Z';
/// ModRM always naming registers (mov to/from CRn, DRn: mod is ignored).
const R: u8 = b'r';
/// rel32 branch.
const J: u8 = b'j';
// 's': handled by name; 'x': invalid in 64-bit mode, not handled, or a
// prefix where only an opcode may be.

/// Makes a 256-entry table out of 16 rows of 16 class letters.
const fn table(s: &str) -> [u8; 256] {
    let b = s.as_bytes();
    assert!(b.len() == 256);
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = b[i];
        i += 1;
    }
    t
}

/// The one-byte map. Prefixes are 'x' here: they are consumed before the
/// table is looked at, so one met here followed a REX.
#[rustfmt::skip]
static ONE: [u8; 256] = table(concat!(
    //0123456789ABCDEF
    "mmmmbzxxmmmmbzxs", // 0x: 06 07 0E invalid, 0F escape
    "mmmmbzxxmmmmbzxx", // 1x
    "mmmmbzxxmmmmbzxx", // 2x: 26 2E prefixes, 27 2F invalid
    "mmmmbzxxmmmmbzxx", // 3x
    "xxxxxxxxxxxxxxxx", // 4x: REX
    "nnnnnnnnnnnnnnnn", // 5x: push/pop
    "xxsmxxxxzZbBnnnn", // 6x: 62 EVEX, 63 movsxd
    "bbbbbbbbbbbbbbbb", // 7x: jcc rel8
    "BZxBmmmmmmmmmmms", // 8x: groups 1, 8F pop or XOP
    "nnnnnnnnnnxnnnnn", // 9x: 9A invalid
    "ssssnnnnbznnnnnn", // Ax: A0-A3 moffs
    "bbbbbbbbssssssss", // Bx: B8-BF imm32/imm64
    "BBwnsssssnwnnbxn", // Cx: C4 C5 VEX, C6 C7 group 11, C8 enter
    "mmmmxxxnmmmmmmmm", // Dx: shifts, x87
    "bbbbbbbbjjxbnnnn", // Ex: loop, in/out, call/jmp
    "xnxxnnssnnnnnnss", // Fx: F6 F7 group 3, FE FF groups 4 5
));

/// The 0F map.
#[rustfmt::skip]
static TWO: [u8; 256] = table(concat!(
    //0123456789ABCDEF
    "mmmmxnnnnnxnxmxx", // 0x: 0E femms, 0F 3DNow!
    "mmmmmmmmmmmmmmmm", // 1x
    "rrrrxxxxmmmmmmmm", // 2x
    "nnnnnnxnsxsxxxxx", // 3x: 38 3A escapes
    "mmmmmmmmmmmmmmmm", // 4x: cmovcc
    "mmmmmmmmmmmmmmmm", // 5x
    "mmmmmmmmmmmmmmmm", // 6x
    "BBBBmmmnsmxxmmmm", // 7x: 78 vmread or SSE4a
    "jjjjjjjjjjjjjjjj", // 8x: jcc rel32
    "mmmmmmmmmmmmmmmm", // 9x: setcc
    "nnnmBmxxnnnmBmmm", // Ax
    "mmmmmmmmsmBmmmmm", // Bx: B8 popcnt
    "mmBmBBBmnnnnnnnn", // Cx
    "mmmmmmmmmmmmmmmm", // Dx
    "mmmmmmmmmmmmmmmm", // Ex
    "mmmmmmmmmmmmmmmm", // Fx
));

/// Opcodes of the 0F 38 and 0F 3A maps without VEX (those are checked, so
/// that an unknown one is not taken for a ModRM form).
const MAP_0F38: &[(u8, u8)] = &[
    (0x00, 0x0B),
    (0x10, 0x10),
    (0x14, 0x15),
    (0x17, 0x17),
    (0x1C, 0x1E),
    (0x20, 0x25),
    (0x28, 0x2B),
    (0x30, 0x35),
    (0x37, 0x41),
    (0x80, 0x82),
    (0xC8, 0xCD),
    (0xCF, 0xCF),
    (0xD8, 0xD8),
    (0xDB, 0xDF),
    (0xF0, 0xF6),
    (0xF8, 0xFC),
];
const MAP_0F3A: &[(u8, u8)] = &[
    (0x08, 0x0F),
    (0x14, 0x17),
    (0x20, 0x22),
    (0x40, 0x42),
    (0x44, 0x44),
    (0x60, 0x63),
    (0xCC, 0xCC),
    (0xCE, 0xCF),
    (0xDF, 0xDF),
];
/// VEX and EVEX opcodes of map 1 (0F); 70-73, C2, C4-C6 take an imm8.
const VEX_0F: &[(u8, u8)] = &[
    (0x10, 0x17),
    (0x28, 0x2F),
    (0x41, 0x42),
    (0x44, 0x47),
    (0x4A, 0x4B),
    (0x50, 0x77),
    (0x7C, 0x7F),
    (0x90, 0x93),
    (0x98, 0x99),
    (0xAE, 0xAE),
    (0xC2, 0xC2),
    (0xC4, 0xC6),
    (0xD0, 0xFE),
];
const EVEX_0F: &[(u8, u8)] =
    &[(0x10, 0x17), (0x28, 0x2F), (0x51, 0x76), (0x78, 0x7B), (0x7E, 0x7F), (0xC2, 0xC2), (0xC4, 0xC6), (0xD1, 0xFE)];

fn in_set(op: u8, set: &[(u8, u8)]) -> bool {
    set.iter().any(|&(lo, hi)| lo <= op && op <= hi)
}

/// The legacy prefixes that change a length or the validity of a form.
#[derive(Default)]
struct Prefixes {
    /// 66: operand size 16 (unless REX.W).
    osize: bool,
    /// 67: 32-bit addresses (only moffs changes length).
    asize: bool,
    /// F2, F3 and F0 select or forbid some forms.
    f2: bool,
    f3: bool,
    lock: bool,
    rex: bool,
    rex_w: bool,
}

impl Prefixes {
    /// Size of an imm16/32: REX.W wins over 66.
    fn z(&self) -> usize {
        if self.osize && !self.rex_w {
            2
        } else {
            4
        }
    }
}

/// The length of the instruction at the start of `code`, or None (see the
/// module comment). Never reads beyond `code` or beyond 15 bytes.
pub fn length(code: &[u8]) -> Option<usize> {
    let code = code.get(..MAX_LEN).unwrap_or(code);
    let mut p = Prefixes::default();
    let mut i = 0;
    let mut op = *code.first()?;
    loop {
        match op {
            0x66 => p.osize = true,
            0x67 => p.asize = true,
            0xF2 => p.f2 = true,
            0xF3 => p.f3 = true,
            0xF0 => p.lock = true,
            0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65 => {}
            _ => break,
        }
        i += 1;
        op = *code.get(i)?;
    }
    // A REX counts only right before the opcode; anything else after it
    // (a prefix, a second REX) is 'x' in the table.
    if op & 0xF0 == 0x40 {
        p.rex = true;
        p.rex_w = op & 8 != 0;
        i += 1;
        op = *code.get(i)?;
    }
    i += 1;
    let len = match op {
        0x0F => map_0f(code, i, &p)?,
        0xC4 | 0xC5 | 0x62 => vex(code, op, i, &p)?,
        0xA0..=0xA3 => i + if p.asize { 4 } else { 8 },
        // mov r, imm: imm64 with REX.W, else imm16/32.
        0xB8..=0xBF => i + if p.rex_w { 8 } else { p.z() },
        0xC8 => i + 3,
        // fwait is an instruction of its own; objdump shows it as part of
        // the x87 instruction after it, and as an instruction of its own a
        // prefix before it: no prefix then, to be clear of both readings.
        0x9B if i > 1 => return None,
        // The group's member (ModRM.reg) decides validity and immediate.
        0x8F | 0xC6 | 0xC7 | 0xF6 | 0xF7 | 0xFE | 0xFF => {
            let m = *code.get(i)?;
            let imm = match (op, m >> 3 & 7) {
                (0x8F, 0) | (0xFE, 0 | 1) | (0xFF, 0..=6) | (0xF6 | 0xF7, 2..=7) => 0,
                (0xC6, 0) | (0xF6, 0 | 1) => 1,
                (0xC7, 0) | (0xF7, 0 | 1) => p.z(),
                // xabort imm8, xbegin rel16/32.
                _ if op == 0xC6 && m == 0xF8 => 1,
                _ if op == 0xC7 && m == 0xF8 => p.z(),
                _ => return None,
            };
            i + modrm(code, i)? + imm
        }
        _ => class(ONE[op as usize], code, i, &p)?,
    };
    (len <= code.len()).then_some(len)
}

/// Length of an instruction of class `c` whose opcode ends at `i`.
fn class(c: u8, code: &[u8], i: usize, p: &Prefixes) -> Option<usize> {
    Some(match c {
        N => i,
        IB => i + 1,
        IW => i + 2,
        IZ => i + p.z(),
        M => i + modrm(code, i)?,
        MB => i + modrm(code, i)? + 1,
        MZ => i + modrm(code, i)? + p.z(),
        R => i + 1,
        // REX.W makes it rel32 on every CPU.
        J if !p.osize || p.rex_w => i + 4,
        _ => return None,
    })
}

/// The 0F map (`i`: after the 0F).
fn map_0f(code: &[u8], i: usize, p: &Prefixes) -> Option<usize> {
    let op = *code.get(i)?;
    let i = i + 1;
    match op {
        0x38 => {
            let op = *code.get(i)?;
            if !in_set(op, MAP_0F38) {
                return None;
            }
            class(M, code, i + 1, p)
        }
        0x3A => {
            let op = *code.get(i)?;
            if !in_set(op, MAP_0F3A) {
                return None;
            }
            class(MB, code, i + 1, p)
        }
        // vmread; with 66 or F2 it is SSE4a's extrq/insertq with two imm8.
        0x78 if !p.osize && !p.f2 => class(M, code, i, p),
        // popcnt; without F3 it is Itanium's jmpe.
        0xB8 if p.f3 && !p.f2 => class(M, code, i, p),
        _ => class(TWO[op as usize], code, i, p),
    }
}

/// VEX (C4, C5) and EVEX (62), always so in 64-bit mode (`i`: after the
/// first byte).
fn vex(code: &[u8], first: u8, i: usize, p: &Prefixes) -> Option<usize> {
    // 66, F2, F3, F0 or REX before them is #UD.
    if p.osize || p.f2 || p.f3 || p.lock || p.rex {
        return None;
    }
    let p0 = *code.get(i)?;
    let (evex, map, i) = match first {
        0xC5 => (false, 1, i + 1),
        0xC4 => (false, p0 & 0x1F, i + 2),
        _ => {
            // P0 bit 3 set or P1 bit 2 clear: APX's extended EVEX.
            let p1 = *code.get(i + 1)?;
            if p0 & 0x08 != 0 || p1 & 0x04 == 0 {
                return None;
            }
            (true, p0 & 0x07, i + 3)
        }
    };
    let op = *code.get(i)?;
    let c = match map {
        1 if !evex && op == 0x77 => N, // vzeroupper, vzeroall
        1 if !in_set(op, if evex { EVEX_0F } else { VEX_0F }) => return None,
        1 if matches!(op, 0x70..=0x73 | 0xC2 | 0xC4..=0xC6) => MB,
        1 => M,
        2 => M,
        3 => MB,
        5 | 6 if evex => M, // AVX512-FP16
        _ => return None,
    };
    class(c, code, i + 1, p)
}

/// Bytes taken by the ModRM at `code[i]` with its SIB and displacement.
/// 64-bit mode has no 16-bit addressing, so 67 keeps this layout.
fn modrm(code: &[u8], i: usize) -> Option<usize> {
    let m = *code.get(i)?;
    let (md, rm) = (m >> 6, m & 7);
    let disp = match md {
        3 => return Some(1),
        0 if rm == 5 => 4, // rip-relative
        0 => 0,
        1 => 1,
        _ => 4,
    };
    if rm != 4 {
        return Some(1 + disp);
    }
    // SIB; base 5 with mod 0 means disp32 and no base.
    let sib = *code.get(i + 1)?;
    Some(2 + if md == 0 && sib & 7 == 5 { 4 } else { disp })
}

/// `mov eax, imm32` encoded as exactly `b8 imm32`, no prefix: its imm32.
pub fn is_mov_eax_imm32(code: &[u8]) -> Option<u32> {
    match code {
        [0xB8, a, b, c, d, ..] => Some(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Whether `code` starts with `syscall`.
pub fn is_syscall(code: &[u8]) -> bool {
    code.starts_with(&[0x0F, 0x05])
}

/// Decodes `code` from offset 0 (a known instruction boundary, such as a
/// function's start) until offset `at`: the offset of the instruction that
/// ends exactly at `at`, or None if decoding fails on the way or steps
/// over `at` (then `at` is not a boundary reachable by straight-line
/// decoding) or `at` is 0.
pub fn insn_before(code: &[u8], at: usize) -> Option<usize> {
    let mut pos = 0;
    let mut prev = None;
    while pos < at {
        prev = Some(pos);
        pos += length(code.get(pos..)?)?;
    }
    prev.filter(|_| pos == at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    /// Assembled by gas, lengths as objdump shows them.
    #[test]
    fn known_lengths() {
        #[rustfmt::skip]
        let cases: &[(&str, usize)] = &[
            ("90", 1), // nop
            ("48 89 e5", 3), // mov %rsp,%rbp
            ("b8 27 00 00 00", 5), // mov $0x27,%eax
            ("0f 05", 2), // syscall
            ("48 b8 88 77 66 55 44 33 22 11", 10), // movabs $0x1122334455667788,%rax
            ("66 b8 34 12", 4), // mov $0x1234,%ax
            ("41 b8 78 56 34 12", 6), // mov $0x12345678,%r8d
            ("66 48 b8 88 77 66 55 44 33 22 11", 11), // data16 movabs $0x1122334455667788,%rax
            ("66 b8 34 12", 4), // mov $0x1234,%ax
            ("48 c7 c0 ff ff ff ff", 7), // mov $0xffffffffffffffff,%rax
            ("a0 88 77 66 55 44 33 22 11", 9), // movabs 0x1122334455667788,%al
            ("67 a1 44 33 22 11", 6), // addr32 mov 0x11223344,%eax
            ("48 a1 88 77 66 55 44 33 22 11", 10), // movabs 0x1122334455667788,%rax
            ("a8 01", 2), // test $0x1,%al
            ("f6 d0", 2), // not %al
            ("a9 78 56 34 12", 5), // test $0x12345678,%eax
            ("66 a9 34 12", 4), // test $0x1234,%ax
            ("f6 44 24 08 01", 5), // testb $0x1,0x8(%rsp)
            ("f7 05 00 01 00 00 01 00 00 00", 10), // testl $0x1,0x100(%rip) # 0x16a
            ("f7 d8", 2), // neg %eax
            ("48 8b 05 34 12 00 00", 7), // mov 0x1234(%rip),%rax # 0x12a7
            ("8b 04 24", 3), // mov (%rsp),%eax
            ("8b 44 24 08", 4), // mov 0x8(%rsp),%eax
            ("8b 84 24 00 01 00 00", 7), // mov 0x100(%rsp),%eax
            ("8b 04 25 34 12 00 00", 7), // mov 0x1234,%eax
            ("8b 0c 85 00 00 00 00", 7), // mov 0x0(,%rax,4),%ecx
            ("8b 45 00", 3), // mov 0x0(%rbp),%eax
            ("41 8b 45 00", 4), // mov 0x0(%r13),%eax
            ("41 8b 04 24", 4), // mov (%r12),%eax
            ("67 8b 00", 3), // mov (%eax),%eax
            ("67 8b 05 34 12 00 00", 7), // mov 0x1234(%eip),%eax # 0x12d8
            ("c8 10 00 00", 4), // enter $0x10,$0x0
            ("c2 08 00", 3), // ret $0x8
            ("e8 fb 00 00 00", 5), // call 0x1ab
            ("0f 85 fa 00 00 00", 6), // jne 0x1b0
            ("75 00", 2), // jne 0xb8
            ("f3 0f 1e fa", 4), // endbr64
            ("2e 66 0f 1f 04 00", 6), // cs nopw (%rax,%rax,1)
            ("66 66 2e 0f 1f 84 00 00 00 00 00", 11), // data16 cs nopw 0x0(%rax,%rax,1)
            ("66 0f 3a 0f c1 08", 6), // palignr $0x8,%xmm1,%xmm0
            ("66 0f 38 00 c1", 5), // pshufb %xmm1,%xmm0
            ("c5 f8 77", 3), // vzeroupper
            ("c5 fd 6f 06", 4), // vmovdqa (%rsi),%ymm0
            ("c4 e2 7d 58 c0", 5), // vpbroadcastd %xmm0,%ymm0
            ("c4 e3 7d 18 c1 01", 6), // vinsertf128 $0x1,%xmm1,%ymm0,%ymm0
            ("c4 e3 fb f0 c0 05", 6), // rorx $0x5,%rax,%rax
            ("62 f1 fe 48 6f 06", 6), // vmovdqu64 (%rsi),%zmm0
            ("62 f1 fe 48 6f 46 01", 7), // vmovdqu64 0x40(%rsi),%zmm0
            ("62 f1 fe 48 6f 46 40", 7), // vmovdqu64 0x1000(%rsi),%zmm0
            ("62 f1 75 48 73 d8 08", 7), // vpsrldq $0x8,%zmm0,%zmm1
            ("62 f3 75 48 25 c2 96", 7), // vpternlogd $0x96,%zmm2,%zmm1,%zmm0
            ("62 f1 7d 48 74 0f", 6), // vpcmpeqb (%rdi),%zmm0,%k1
            ("c4 e1 fb 93 c1", 5), // kmovq %k1,%rax
            ("62 f3 7d 48 3e 0f 04", 7), // vpcmpnequb (%rdi),%zmm0,%k1
            ("58", 1), // pop %rax
            ("c7 f8 fa 00 00 00", 6), // xbegin 0x225
            ("c6 f8 01", 3), // xabort $0x1
            ("d9 ee", 2), // fldz
            ("dd 44 24 08", 4), // fldl 0x8(%rsp)
            ("db 2d 00 01 00 00", 6), // fldt 0x100(%rip) # 0x23a
            ("dd d8", 2), // fstp %st(0)
            ("0f 20 c0", 3), // mov %cr0,%rax
            ("f3 0f b8 c8", 4), // popcnt %eax,%ecx
            ("0f 78 c3", 3), // vmread %rax,%rbx
            ("f0 48 0f b1 0a", 5), // lock cmpxchg %rcx,(%rdx)
            ("f3 aa", 2), // rep stos %al,%es:(%rdi)
            ("f3 c3", 2), // repz ret
            ("f2 e9 fa 00 00 00", 6), // bnd jmp 0x24f
            ("3e ff e0", 3), // notrack jmp *%rax
            ("64 48 8b 04 25 28 00 00 00", 9), // mov %fs:0x28,%rax
            ("64 48 8b 04 25 28 00 00 00", 9), // mov %fs:0x28,%rax
            ("69 c8 45 23 01 00", 6), // imul $0x12345,%eax,%ecx
            ("6b c8 03", 3), // imul $0x3,%eax,%ecx
            ("68 45 23 01 00", 5), // push $0x12345
            ("6a 01", 2), // push $0x1
            ("66 68 34 12", 4), // pushw $0x1234
            ("48 05 78 56 34 12", 6), // add $0x12345678,%rax
            ("48 83 c0 01", 4), // add $0x1,%rax
            ("05 78 56 34 12", 5), // add $0x12345678,%eax
            ("66 05 34 12", 4), // add $0x1234,%ax
            ("66 81 00 34 12", 5), // addw $0x1234,(%rax)
            ("c1 e0 03", 3), // shl $0x3,%eax
            ("f2 48 0f 38 f1 c8", 6), // crc32 %rax,%rcx
            ("0f 38 f0 07", 4), // movbe (%rdi),%eax
            ("66 0f 38 dc c1", 5), // aesenc %xmm1,%xmm0
            ("66 0f 3a 44 c1 00", 6), // pclmullqlqdq %xmm1,%xmm0
            ("0f 38 cb d1", 4), // sha256rnds2 %xmm0,%xmm1,%xmm2
            ("0f 31", 2), // rdtsc
            ("0f a2", 2), // cpuid
            ("0f 01 d0", 3), // xgetbv
            ("0f c7 f0", 3), // rdrand %eax
            ("0f a4 c1 03", 4), // shld $0x3,%eax,%ecx
            ("0f ba e0 03", 4), // bt $0x3,%eax
            ("0f c2 c1 01", 4), // cmpltps %xmm1,%xmm0
            ("66 0f 70 c1 01", 5), // pshufd $0x1,%xmm1,%xmm0
            ("66 0f 73 d0 03", 5), // psrlq $0x3,%xmm0
            ("62 f2 75 48 b8 c2", 6), // vfmadd231ps %zmm2,%zmm1,%zmm0
            ("62 f5 74 48 58 c2", 6), // vaddph %zmm2,%zmm1,%zmm0
            ("62 f6 75 48 b8 c2", 6), // vfmadd231ph %zmm2,%zmm1,%zmm0
            ("62 f3 7c 48 08 c1 01", 7), // vrndscaleph $0x1,%zmm1,%zmm0
            ("f2 48 0f 2a c0", 5), // cvtsi2sd %rax,%xmm0
            ("66 48 0f 7e c0", 5), // movq %xmm0,%rax
            ("48 63 c0", 3), // movslq %eax,%rax
            ("0f b6 00", 3), // movzbl (%rax),%eax
            ("cc", 1), // int3
            ("cd 80", 2), // int $0x80
            ("0f 0b", 2), // ud2
            ("e4 80", 2), // in $0x80,%al
            ("e2 00", 2), // loop 0x204
            ("e3 00", 2), // jrcxz 0x206
            ("eb 00", 2), // jmp 0x208
            ("e9 fb 00 00 00", 5), // jmp 0x308
            ("c9", 1), // leave
            ("98", 1), // cwtl
            ("48 98", 2), // cltq
            ("48 99", 2), // cqto
            ("66 90", 2), // xchg %ax,%ax
            ("a4", 1), // movsb %ds:(%rsi),%es:(%rdi)
            ("48 ad", 2), // lods %ds:(%rsi),%rax
            ("f4", 1), // hlt
            ("66 66 48 e8 00 00 00 00", 8), // data16 data16 rex.W call (TLS general dynamic)
            ("0f b9 c8", 3), // ud1 %eax,%ecx
            ("c4 e2 78 49 c0", 5), // tilerelease
            ("c4 e2 78 49 00", 5), // ldtilecfg (%rax)
            ("62 f2 75 48 50 c2", 6), // vpdpbusd %zmm2,%zmm1,%zmm0
            ("62 f3 f5 48 ce c2 01", 7), // vgf2p8affineqb $0x1,%zmm2,%zmm1,%zmm0
            ("62 f2 75 48 8f ca", 6), // vpshufbitqmb %zmm2,%zmm1,%k1
            ("62 f2 77 48 72 c2", 6), // vcvtne2ps2bf16 %zmm2,%zmm1,%zmm0
            ("0f 01 ef", 3), // wrpkru
            ("0f 01 ee", 3), // rdpkru
            ("0f 01 f9", 3), // rdtscp
            ("66 0f ae 38", 4), // clflushopt (%rax)
            ("66 0f ae 30", 4), // clwb (%rax)
            ("0f ae f8", 3), // sfence
            ("0f ae f0", 3), // mfence
            ("0f ae e8", 3), // lfence
            ("f3 90", 2), // pause
            ("0f 18 08", 3), // prefetcht0 (%rax)
            ("0f 0d 08", 3), // prefetchw (%rax)
            ("66 0f 38 f8 08", 5), // movdir64b (%rax),%rcx
            ("f3 48 0f ae e8", 5), // incsspq %rax
            ("f3 48 0f 1e c8", 5), // rdsspq %rax
            ("c5 f8 11 04 c4", 5), // vmovups %xmm0,(%rsp,%rax,8)
            ("c4 e2 6d 92 04 88", 6), // vgatherdps %ymm2,(%rax,%ymm1,4),%ymm0
            ("62 f2 7d 49 90 04 88", 7), // vpgatherdd (%rax,%zmm1,4),%zmm0{%k1}
        ];
        for &(bytes, len) in cases {
            let mut code = hex(bytes);
            assert_eq!(length(&code), Some(len), "{bytes}");
            // What follows does not matter; one byte less is truncated.
            code.extend_from_slice(&[0x90; 16]);
            assert_eq!(length(&code), Some(len), "{bytes} + nops");
            assert_eq!(length(&code[..len - 1]), None, "{bytes} truncated");
        }
    }

    #[test]
    fn refused() {
        for truncated in ["", "66", "48", "0f", "0f 38", "b8 01 02", "48 8b 05 00", "8b 04", "c4 e2", "62 f1 fe 48"] {
            assert_eq!(length(&hex(truncated)), None, "{truncated}");
        }
        let cases: &[&str] = &[
            // Invalid in 64-bit mode.
            "06",
            "07",
            "0e",
            "16",
            "17",
            "1e",
            "1f",
            "27",
            "2f",
            "37",
            "3f",
            "60",
            "61",
            "82 c0 01",
            "9a",
            "ce",
            "d4 0a",
            "d5 0a",
            "d6",
            "ea",
            "0f 04",
            "0f 0a",
            "0f 0c",
            "0f 24 c0",
            "0f 26 c0",
            "c6 c8 01",
            "c7 c8 01 00 00 00",
            "fe d0",
            "ff f8",
            // 3DNow!, XOP, jmpe, SSE4a extrq/insertq with immediates.
            "0f 0f c1 b4",
            "0f 0e",
            "8f e9 78 e1 c1",
            "0f b8 c0",
            "66 0f 78 c0 01 02",
            "f2 0f 78 c1 01 02",
            // Unknown 0F38 / 0F3A opcodes.
            "66 0f 38 50 c1",
            "66 0f 3a 50 c1 01",
            // REX not right before the opcode, two REX.
            "48 66 90",
            "40 48 90",
            "48 f0 01 00",
            // Legacy prefixes before VEX / EVEX, REX before them.
            "66 c5 f8 77",
            "f3 c5 f8 77",
            "48 c5 f8 77",
            "f0 62 f1 fe 48 6f 06",
            // Unknown VEX / EVEX maps, APX EVEX.
            "c4 e4 7d 58 c0",
            "c4 e0 7d 58 c0",
            "62 f4 fe 48 6f 06",
            "62 f9 fe 48 6f 06",
            "62 f1 fa 48 6f 06",
            // rel32 branches whose length depends on the CPU.
            "66 e8 00 00 00 00",
            "66 e9 00 00 00 00",
            "66 0f 84 00 00 00 00",
            "66 41 e8 00 00 00 00",
        ];
        for bytes in cases {
            let mut code = hex(bytes);
            code.extend_from_slice(&[0; 16]);
            assert_eq!(length(&code), None, "{bytes}");
        }
    }

    #[test]
    fn fifteen_bytes() {
        let mut code = vec![0x66; 14];
        code.push(0x90);
        assert_eq!(length(&code), Some(15));
        code.insert(0, 0x66);
        assert_eq!(length(&code), None);
        // 66 f2 f3 + ... an instruction whose bytes run past 15.
        let long = hex("64 67 66 f0 48 81 84 88 00 01 00 00 00 00 00 00");
        assert_eq!(length(&long), None);
        assert_eq!(length(&long[1..]), Some(15));
    }

    #[test]
    fn helpers() {
        assert_eq!(is_mov_eax_imm32(&hex("b8 27 00 00 00 0f 05")), Some(39));
        assert_eq!(is_mov_eax_imm32(&hex("b8 27 00 00")), None);
        assert_eq!(is_mov_eax_imm32(&hex("41 b8 27 00 00 00")), None);
        assert_eq!(is_mov_eax_imm32(&hex("66 b8 27 00")), None);
        assert!(is_syscall(&hex("0f 05")));
        assert!(!is_syscall(&hex("0f")));
        // push %rbp; mov %rsp,%rbp; mov $39,%eax; syscall
        let f = hex("55 48 89 e5 b8 27 00 00 00 0f 05 c3");
        assert_eq!(insn_before(&f, 9), Some(4));
        assert_eq!(insn_before(&f, 4), Some(1));
        assert_eq!(insn_before(&f, 0), None);
        assert_eq!(insn_before(&f, 5), None, "inside the mov");
        assert_eq!(insn_before(&f, 100), None, "past the end");
        // movabs $0x050fb8..., %rax hides "b8 .. 0f 05" inside itself.
        let g = hex("48 b8 00 b8 27 00 00 00 0f 05 c3");
        assert_eq!(insn_before(&g, 8), None);
        assert_eq!(insn_before(&g, 10), Some(0));
    }

    #[test]
    fn garbage_never_panics() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut code = [0u8; 24];
        for _ in 0..200_000 {
            for b in code.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            for n in 0..code.len() {
                if let Some(l) = length(&code[..n]) {
                    assert!(l >= 1 && l <= n.min(MAX_LEN));
                    assert_eq!(length(&code), Some(l), "{:02x?}", &code[..l]);
                }
            }
        }
    }

    /// objdump shows fwait (9b) as one with what follows it, the CPU as
    /// an instruction of its own.
    fn fwait_merged(code: &[u8], objdump: usize) -> bool {
        code.first() == Some(&0x9b) && length(code) == Some(1) && objdump > 1
    }

    /// Executable sections of an ELF file: (address, file offset, size).
    fn exec_sections(data: &[u8]) -> Vec<(u64, usize, usize)> {
        let u16_at = |o: usize| u16::from_le_bytes(data[o..o + 2].try_into().unwrap()) as usize;
        let u64_at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().unwrap());
        let (shoff, shentsize, shnum) = (u64_at(0x28) as usize, u16_at(0x3a), u16_at(0x3c));
        (0..shnum)
            .map(|i| shoff + i * shentsize)
            .filter(|&s| u64_at(s + 8) & 4 != 0 && u32::from_le_bytes(data[s + 4..s + 8].try_into().unwrap()) != 8)
            .map(|s| (u64_at(s + 0x10), u64_at(s + 0x18) as usize, u64_at(s + 0x20) as usize))
            .collect()
    }

    #[derive(Default)]
    struct Counts {
        compared: u64,
        none: u64,
        bad: u64,
        wrong: Vec<String>,
        none_seen: Vec<String>,
    }

    /// Decodes every instruction objdump shows in `path`'s executable
    /// sections, at objdump's addresses; objdump's length is the distance
    /// to its next instruction (its own bytes are not printed: faster).
    fn against_objdump(path: &str) -> Counts {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let sections = exec_sections(&data);
        let mut child = Command::new("objdump")
            .args(["-d", "-w", "-z", "--no-show-raw-insn", path])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("this test needs objdump (binutils): {e}"));
        let mut out = std::io::BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
        let mut c = Counts::default();
        let mut check = |addr: u64, bad: bool, next: Option<u64>, text: &[u8]| {
            let Some(&(sa, so, ss)) = sections.iter().find(|s| s.0 <= addr && addr < s.0 + s.2 as u64) else {
                panic!("{path}: {addr:#x} outside the executable sections");
            };
            let end = next.filter(|&n| n > addr && n <= sa + ss as u64).unwrap_or(sa + ss as u64);
            let want = (end - addr) as usize;
            if bad {
                c.bad += 1;
                return;
            }
            let code = &data[so + (addr - sa) as usize..so + ss];
            let text = String::from_utf8_lossy(text);
            match length(code) {
                Some(l) if l == want || fwait_merged(code, want) => c.compared += 1,
                Some(l) => {
                    c.wrong.push(format!("{path} {addr:#x}: {:02x?} objdump {want} ours {l}: {text}", &code[..want]))
                }
                None => {
                    c.compared += 1;
                    c.none += 1;
                    c.none_seen.push(format!("{path} {addr:#x}: {:02x?}: {text}", &code[..want.min(15)]));
                }
            }
        };
        let mut prev: Option<(u64, bool, Vec<u8>)> = None;
        let mut line = Vec::new();
        loop {
            line.clear();
            if out.read_until(b'\n', &mut line).unwrap() == 0 {
                break;
            }
            // "  4010a6:\tmov    %rsp,%rbp"
            let l = line.trim_ascii_start();
            let Some(colon) = l.iter().position(|&b| b == b':') else { continue };
            if colon == 0 || l.get(colon + 1) != Some(&b'\t') {
                continue;
            }
            let Ok(addr) = u64::from_str_radix(std::str::from_utf8(&l[..colon]).unwrap_or("x"), 16) else { continue };
            if let Some((a, bad, text)) = prev.take() {
                check(a, bad, Some(addr), &text);
            }
            let bad = l.windows(5).any(|w| w == b"(bad)");
            prev = Some((addr, bad, l[colon + 2..].trim_ascii_end().to_vec()));
        }
        if let Some((a, bad, text)) = prev {
            check(a, bad, None, &text);
        }
        assert!(child.wait().unwrap().success(), "objdump {path} failed");
        c
    }

    /// Every instruction of real binaries, against objdump: never a
    /// different length; None (not rewritten) for almost none.
    #[test]
    fn agrees_with_objdump() {
        const BINARIES: &[&str] = &[
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib64/ld-linux-x86-64.so.2",
            "/usr/bin/bash",
            "/usr/bin/python3.11",
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
        ];
        let results: Vec<Counts> = std::thread::scope(|s| {
            let threads: Vec<_> = BINARIES.iter().map(|b| s.spawn(|| against_objdump(b))).collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let (mut compared, mut none, mut wrong) = (0, 0, Vec::new());
        for (b, c) in BINARIES.iter().zip(&results) {
            println!("{b}: {} instructions, {} None, {} (bad) skipped", c.compared, c.none, c.bad);
            for n in c.none_seen.iter().take(5) {
                println!("  None: {n}");
            }
            compared += c.compared;
            none += c.none;
            wrong.extend(c.wrong.iter().cloned());
        }
        println!("total: {compared} instructions, {none} None, {} wrong", wrong.len());
        for w in wrong.iter().take(40) {
            println!("  WRONG: {w}");
        }
        assert!(wrong.is_empty(), "{} instructions with a wrong length", wrong.len());
        assert!(compared > 1_000_000);
        assert!(none * 100_000 <= compared, "{none} of {compared} not decoded");
    }

    /// Instruction-shaped random bytes (prefixes, REX, every map, VEX and
    /// EVEX headers, random rest), against objdump at its boundaries.
    #[test]
    fn random_against_objdump() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut data = Vec::new();
        while data.len() < 1 << 20 {
            for _ in 0..rnd() % 4 {
                let p = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x64, 0x66, 0x66];
                data.push(p[(rnd() % p.len() as u64) as usize]);
            }
            if rnd() % 2 == 0 {
                data.push(0x40 | (rnd() & 15) as u8);
            }
            match rnd() % 8 {
                0 => data.push(0x0f),
                1 => data.extend([0x0f, 0x38]),
                2 => data.extend([0x0f, 0x3a]),
                3 => data.extend([0xc4, 0xe0 | (rnd() % 4) as u8]),
                4 => data.extend([0x62, 0xf0 | (rnd() % 8) as u8, (rnd() as u8) | 4]),
                5 => data.push(0xc5),
                _ => {}
            }
            for _ in 0..12 {
                data.push(rnd() as u8);
            }
        }
        let path = std::env::temp_dir().join(format!("preld-insn-random-{}", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        let out = Command::new("objdump")
            .args(["-D", "-b", "binary", "-m", "i386:x86-64", "-w", "-z", "--no-show-raw-insn"])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("this test needs objdump (binutils): {e}"));
        std::fs::remove_file(&path).ok();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = Vec::new();
        for l in text.lines() {
            let l = l.trim_start();
            let Some((a, rest)) = l.split_once(":\t") else { continue };
            let Ok(a) = usize::from_str_radix(a, 16) else { continue };
            lines.push((a, rest));
        }
        let (mut same, mut none, mut wrong) = (0, 0, Vec::new());
        for w in lines.windows(2) {
            let ((a, text), (next, _)) = (w[0], w[1]);
            if text.contains("(bad)") {
                continue;
            }
            match length(&data[a..]) {
                Some(l) if l == next - a || fwait_merged(&data[a..], next - a) => same += 1,
                Some(l) => {
                    wrong.push(format!("{:02x?} objdump {} ours {l}: {text}", &data[a..next.max(a + l)], next - a))
                }
                None => {
                    none += 1;
                    if std::env::var("SHOW_NONE").is_ok() {
                        println!("NONE {:02x?}: {text}", &data[a..next]);
                    }
                }
            }
        }
        println!("random: {same} same, {none} None, {} wrong", wrong.len());
        for w in wrong.iter().take(60) {
            println!("  WRONG: {w}");
        }
        assert!(wrong.is_empty());
    }
}
