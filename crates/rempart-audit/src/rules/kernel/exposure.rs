//! Sysctls that keep kernel and process memory away from unprivileged eyes: ASLR, kernel pointer
//! hiding, the kernel log, and core dumps of setuid programs.

use super::judge::{judge, Param};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

const SEED_KERNEL: &str =
    "seed 001 §7 Kernel Hardening (sysctl), /etc/sysctl.d/99-koprogo-hardening.conf";
const MAN: &str = "https://docs.kernel.org/admin-guide/sysctl/kernel.html";

pub const ASLR: Rule = Rule {
    id: "KRN-ASLR",
    name: "aslr-weakened",
    family: Family::Kernel,
    severity: Severity::High,
    level: Level::Dev,
    title: "Address space layout randomisation is full",
    doc: RuleDoc {
        what: "`kernel.randomize_va_space` is 2 (stack, mmap, vDSO and heap randomised) at boot \
               and, on a live host, in /proc/sys. The kernel default is 2: a failure means \
               something turned it down.",
        why: "ASLR is what makes a memory-corruption bug hard to turn into code execution: with \
              it off, exploit addresses are the same on every run.",
        remediation: "Remove the line lowering it, or echo 'kernel.randomize_va_space = 2' > \
                      /etc/sysctl.d/60-rempart-aslr.conf; sysctl --system",
        verify: "sysctl kernel.randomize_va_space",
        references: &[
            SEED_KERNEL,
            "CIS Debian Linux 12 Benchmark 1.5.x (ASLR enabled)",
            MAN,
        ],
    },
    check: check_aslr,
};

fn check_aslr(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[Param::new("kernel.randomize_va_space", "2", |v| v == 2)],
        "ASLR is weakened",
    )
}

pub const KPTR_RESTRICT: Rule = Rule {
    id: "KRN-KPTR-RESTRICT",
    name: "kernel-pointers-exposed",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Kernel pointers are hidden from unprivileged users",
    doc: RuleDoc {
        what: "`kernel.kptr_restrict` is 1 or 2 at boot and, on a live host, in /proc/sys (the \
               kernel default is 0).",
        why: "Kernel addresses printed in /proc (kallsyms, modules, network tables) defeat \
              kernel ASLR: they are the first step of most local privilege escalations.",
        remediation: "echo 'kernel.kptr_restrict = 1' > /etc/sysctl.d/60-rempart-kptr.conf && \
                      sysctl --system (2 hides them from root too).",
        verify: "sysctl kernel.kptr_restrict",
        references: &[
            SEED_KERNEL,
            "KSPP recommended settings (kernel.kptr_restrict)",
            MAN,
        ],
    },
    check: check_kptr,
};

fn check_kptr(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[Param::new("kernel.kptr_restrict", "1", |v| {
            v == 1 || v == 2
        })],
        "kernel pointers are shown to unprivileged users",
    )
}

pub const DMESG_RESTRICT: Rule = Rule {
    id: "KRN-DMESG-RESTRICT",
    name: "kernel-log-readable-by-users",
    family: Family::Kernel,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Only privileged users read the kernel log",
    doc: RuleDoc {
        what: "`kernel.dmesg_restrict` is 1 at boot and, on a live host, in /proc/sys. When no \
               file sets it, the default comes from CONFIG_SECURITY_DMESG_RESTRICT in the newest \
               `/boot/config-*` (Debian builds its kernels with it on, so the default is 1).",
        why: "The kernel log holds addresses, hardware details and the traces of crashes: \
              material for a local attacker looking for a kernel exploit.",
        remediation: "echo 'kernel.dmesg_restrict = 1' > /etc/sysctl.d/60-rempart-dmesg.conf && \
                      sysctl --system",
        verify: "sysctl kernel.dmesg_restrict; grep DMESG_RESTRICT /boot/config-$(uname -r)",
        references: &[
            SEED_KERNEL,
            "CIS Debian Linux 12 Benchmark (kernel.dmesg_restrict)",
            MAN,
        ],
    },
    check: check_dmesg,
};

fn check_dmesg(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[Param::new("kernel.dmesg_restrict", "1", |v| v == 1)],
        "the kernel log is readable by unprivileged users",
    )
}

pub const SUID_DUMPABLE: Rule = Rule {
    id: "KRN-SUID-DUMPABLE",
    name: "setuid-core-dumps-allowed",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Setuid programs never dump core",
    doc: RuleDoc {
        what: "`fs.suid_dumpable` is 0 at boot and, on a live host, in /proc/sys (the kernel \
               default is 0; 1 and 2 let programs that changed privileges write core files).",
        why: "The core of a setuid or privilege-dropping program holds what it read as root \
              (password hashes from /etc/shadow, private keys): a dump readable by the user who \
              crashed it leaks them.",
        remediation: "echo 'fs.suid_dumpable = 0' > /etc/sysctl.d/60-rempart-coredump.conf && \
                      sysctl --system",
        verify: "sysctl fs.suid_dumpable",
        references: &[
            "seed 001 §7 Kernel Hardening (core dumps disabled)",
            "CIS Debian Linux 12 Benchmark 1.5.x (core dumps are restricted)",
            "https://docs.kernel.org/admin-guide/sysctl/fs.html",
        ],
    },
    check: check_suid_dumpable,
};

fn check_suid_dumpable(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[Param::new("fs.suid_dumpable", "0", |v| v == 0)],
        "setuid programs may dump core",
    )
}
