//! `machine`, `machine_secret_key` and `machine_scope` objects.

use serde::Serialize;
use tessera_core::machines::{Machine, MachineInfo, MachineScope};

/// `MachineWithoutScopedMachines`.
#[derive(Debug, Serialize)]
pub struct MachineSummaryObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    instance_id: &'a str,
    created_at: i64,
    updated_at: i64,
    default_token_ttl: i64,
}

impl<'a> From<&'a MachineInfo> for MachineSummaryObject<'a> {
    fn from(m: &'a MachineInfo) -> Self {
        Self {
            object: "machine",
            id: &m.id,
            name: &m.name,
            instance_id: &m.instance_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
            default_token_ttl: m.default_token_ttl,
        }
    }
}

/// `Machine`: the machine and the machines it may call (always an array: `@clerk/backend` maps over it).
#[derive(Debug, Serialize)]
pub struct MachineObject<'a> {
    #[serde(flatten)]
    machine: MachineSummaryObject<'a>,
    scoped_machines: Vec<MachineSummaryObject<'a>>,
}

impl<'a> From<&'a Machine> for MachineObject<'a> {
    fn from(m: &'a Machine) -> Self {
        Self { machine: (&m.info).into(), scoped_machines: m.scoped_machines.iter().map(Into::into).collect() }
    }
}

/// `Machine.Created`: the machine with its secret key.
#[derive(Debug, Serialize)]
pub struct CreatedMachineObject<'a> {
    #[serde(flatten)]
    machine: MachineObject<'a>,
    secret_key: &'a str,
}

impl<'a> CreatedMachineObject<'a> {
    /// The created machine and its secret key.
    pub fn new(machine: &'a Machine, secret_key: &'a str) -> Self {
        Self { machine: machine.into(), secret_key }
    }
}

/// `Machine.Deleted`.
#[derive(Debug, Serialize)]
pub struct DeletedMachineObject<'a> {
    object: &'static str,
    id: &'a str,
    deleted: bool,
}

impl<'a> DeletedMachineObject<'a> {
    /// The answer to deleting machine `id`.
    pub fn new(id: &'a str) -> Self {
        Self { object: "machine", id, deleted: true }
    }
}

/// `Machine.SecretKey`.
#[derive(Debug, Serialize)]
pub struct MachineSecretKeyObject<'a> {
    object: &'static str,
    secret: &'a str,
}

impl<'a> MachineSecretKeyObject<'a> {
    /// A machine secret key.
    pub fn new(secret: &'a str) -> Self {
        Self { object: "machine_secret_key", secret }
    }
}

/// `MachineScope`.
#[derive(Debug, Serialize)]
pub struct MachineScopeObject<'a> {
    object: &'static str,
    from_machine_id: &'a str,
    to_machine_id: &'a str,
    created_at: i64,
}

impl<'a> From<&'a MachineScope> for MachineScopeObject<'a> {
    fn from(s: &'a MachineScope) -> Self {
        Self {
            object: "machine_scope",
            from_machine_id: &s.from_machine_id,
            to_machine_id: &s.to_machine_id,
            created_at: s.created_at,
        }
    }
}

/// `MachineScope.Deleted`.
#[derive(Debug, Serialize)]
pub struct DeletedMachineScopeObject<'a> {
    object: &'static str,
    from_machine_id: &'a str,
    to_machine_id: &'a str,
    deleted: bool,
}

impl<'a> DeletedMachineScopeObject<'a> {
    /// The answer to deleting the scope `from` → `to`.
    pub fn new(from_machine_id: &'a str, to_machine_id: &'a str) -> Self {
        Self { object: "machine_scope", from_machine_id, to_machine_id, deleted: true }
    }
}
