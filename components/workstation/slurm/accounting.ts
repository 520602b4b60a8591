// Slurm accounting (workstation.slurm.accounting): the steps on the
// accounting host, kept apart from index.ts so that the cluster's own steps
// read as before. Order: retain -> dbd (MariaDB, slurmdbd, cluster) -> the
// controller's config (slurmctld refuses to start with enforced associations
// and no database) -> accounts (users, QoS: their GPU TRES exist once
// slurmctld has registered them); backup after dbd.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SlurmAccountingConfig, SlurmConfig } from "../../../config/workstation";
import { Host } from "../host";
import { fileText, retainStep, scriptStep } from "../../steps";
import { accountingState, ACCOUNTING_DB, backupService, backupTimer, dbSetupSql, mariadbConf, sacctmgrConf, shortHostname, slurmdbdConf } from "./conf";

const SCRIPTS = `${__dirname}/scripts`;

export interface AccountingStepsArgs {
    host: Host;
    config: SlurmConfig;
    accounting: SlurmAccountingConfig;
    /** The database password (generated in the graph; secret in state). */
    password: random.RandomPassword;
    /** `hostname -s` of the accounting host and of the controller. */
    hostname: pulumi.Input<string>;
    controllerHostname: pulumi.Input<string>;
    /** How slurmctld and sacctmgr reach slurmdbd (AccountingStorageHost). */
    accountingHost: pulumi.Input<string>;
}

export interface AccountingSteps {
    retain: pulumi.Resource;
    dbd: pulumi.Resource;
    backup: pulumi.Resource;
    /** The sacctmgr view of slurmdbd (a file the accounts step reuses). */
    sacctmgrConf: pulumi.Output<string>;
}

/** The password: letters and digits only, so that it needs no quoting in slurmdbd.conf or SQL. */
export function accountingPassword(name: string, parent: pulumi.Resource): random.RandomPassword {
    return new random.RandomPassword(`${name}-db-password`, { length: 32, special: false }, { parent });
}

export function accountingSteps(n: string, a: AccountingStepsArgs, after: (...deps: pulumi.Input<pulumi.Resource>[]) => pulumi.CustomResourceOptions, deps: pulumi.Resource[]): AccountingSteps {
    const t = a.host.transport;
    const acc = a.accounting;
    const retain = retainStep(`${n}-retain`, t, "slurm-accounting", acc.retain, after(...deps));
    const sacctmgr = pulumi
        .all([a.controllerHostname, a.accountingHost])
        .apply(([ctl, host]) => sacctmgrConf({ clusterName: a.config.clusterName, controllerHostname: shortHostname(ctl), accountingHost: host, dbdPort: acc.dbdPort }));
    // slurmdbd.conf holds the password: the whole payload is secret, on stdin.
    const files = pulumi.all([a.hostname, a.password.result, sacctmgr]).apply(([hostname, pass, sm]) => ({
        SLURMDBD_CONF: fileText(slurmdbdConf({ hostname: shortHostname(hostname), config: acc, storagePass: pass })),
        MARIADB_CONF: fileText(mariadbConf()),
        DB_SETUP_SQL: fileText(dbSetupSql(pass)),
        SACCTMGR_CONF: fileText(sm),
    }));
    const dbd = scriptStep(
        `${n}-dbd`,
        t,
        {
            dir: SCRIPTS,
            file: "dbd.sh",
            env: { CLUSTER: a.config.clusterName, DB: ACCOUNTING_DB },
            deleteEnv: { DB: ACCOUNTING_DB },
            files: pulumi.secret(files),
            stdin: pulumi.secret(a.password.result),
        },
        after(retain, ...deps),
    );
    const backup = scriptStep(
        `${n}-backup`,
        t,
        {
            dir: SCRIPTS,
            file: "backup.sh",
            env: {},
            deleteEnv: { BACKUP_DIR: acc.backup.dir },
            files: { SERVICE_UNIT: fileText(backupService(acc)), TIMER_UNIT: fileText(backupTimer(acc)) },
            bundled: { BACKUP_SCRIPT: path.join(SCRIPTS, "slurmdbd-backup.sh"), RESTORE_SCRIPT: path.join(SCRIPTS, "slurmdbd-restore.sh") },
        },
        after(dbd),
    );
    return { retain, dbd, backup, sacctmgrConf: sacctmgr };
}

/** Accounts, users and QoS reconciled with sacctmgr (after slurmctld registered the GPU TRES). */
export function accountsStep(n: string, a: { host: Host; config: SlurmConfig; accounting: SlurmAccountingConfig; sacctmgrConf: pulumi.Output<string> }, opts: pulumi.CustomResourceOptions): pulumi.Resource {
    return scriptStep(
        `${n}-accounts`,
        a.host.transport,
        {
            dir: SCRIPTS,
            file: "accounts.sh",
            env: { CLUSTER: a.config.clusterName },
            noDelete: true,
            files: a.sacctmgrConf.apply((sm) => ({ STATE: fileText(accountingState(a.accounting)), SACCTMGR_CONF: fileText(sm) })),
        },
        opts,
    );
}
