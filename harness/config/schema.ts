// The only source of config types: profiles, series manifests, machine definitions and guest suites,
// as valibot schemas. Types are inferred from them; YAML is checked against them at the edge.
import * as v from "valibot";

const Name = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][\w.+-]*$/, "a plain name: letters, digits, . _ + -"));
const Seconds = v.pipe(v.number(), v.minValue(1));

export const TreeSchema = v.union([
  /**
   * Debian's linux-source-X.Y. Alone: installed with the host's apt. With `suite` (and `version`): that
   * version downloaded from the suite through a private apt configuration, without touching the host's
   * apt sources, e.g. { debian: linux-source-7.2, version: 7.2.13-1, suite: sid }.
   */
  v.pipe(
    v.strictObject({
      debian: v.pipe(v.string(), v.regex(/^linux-source-[\d.]+$/, "a Debian package such as linux-source-6.12")),
      /** The Debian version; without a suite, the installed package must be this version. */
      version: v.optional(v.pipe(v.string(), v.regex(/^[\w.+~:-]+$/, "a Debian version such as 7.2.13-1"))),
      /** The suite whose Packages index has that version (sid, trixie-backports...). */
      suite: v.optional(v.string()),
      mirror: v.optional(v.string(), "http://deb.debian.org/debian"),
      keyring: v.optional(v.string(), "/usr/share/keyrings/debian-archive-keyring.gpg"),
    }),
    v.check((t) => t.suite === undefined || t.version !== undefined, "a tree from a suite needs its version: { debian, version, suite }"),
  ),
  v.strictObject({ path: v.string() }),
  /** A shallow fetch of one tag, branch or commit, cached by url + ref. */
  v.strictObject({
    git: v.string(),
    ref: v.string(),
    /** History to fetch: 1 (default) is enough to build; a tree bisect needs the range between its ends (0 = all). */
    depth: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 1),
  }),
]);

export const ToolchainSchema = v.strictObject({
  arch: v.optional(v.string(), "arm64"),
  crossCompile: v.optional(v.string(), "aarch64-linux-gnu-"),
  ccache: v.optional(v.boolean(), true),
  /** The C compiler when it is not <crossCompile>gcc (e.g. aarch64-linux-gnu-gcc-11 for a 4.x tree). */
  cc: v.optional(v.string()),
  /** Extra make variables, e.g. { HOSTCFLAGS: -fcommon } for trees older than 5.7 built with gcc >= 10. */
  makeVars: v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Z_][A-Z0-9_]*$/, "a make variable name")), v.string())),
});

/** How the kernel is cross-compiled: ARCH=, CROSS_COMPILE=, ccache, the compiler and extra make variables. */
export type Toolchain = v.InferOutput<typeof ToolchainSchema>;

export const TimeoutsSchema = v.strictObject({
  /** From QEMU start to the guest's ready marker on the console. */
  boot: v.optional(Seconds, 120),
  /** To connect over SSH once the guest said it is ready. */
  ssh: v.optional(Seconds, 30),
  /** Multiplies every guest test's own timeout (TCG is slow; a slower host may need more). */
  testScale: v.optional(v.pipe(v.number(), v.minValue(0.1)), 1),
  /** make of the kernel. */
  build: v.optional(Seconds, 3600),
});

export const ProfileSchema = v.strictObject({
  name: Name,
  description: v.optional(v.string()),
  tree: TreeSchema,
  /** Folders under patches/, applied in this order. */
  series: v.optional(v.array(Name), []),
  /** Kernel parameters of this job, after the machine's and the series' (one per entry). */
  append: v.optional(v.array(v.string()), []),
  kconfig: v.strictObject({
    base: v.optional(v.picklist(["allnoconfig", "tinyconfig"]), "allnoconfig"),
    /** Names under kernel-config/ (without .config) or paths to fragment files. */
    fragments: v.array(v.string()),
  }),
  toolchain: v.optional(ToolchainSchema, {}),
  /** A machine definition under qemu/ (without .yaml) or a path. */
  machine: v.string(),
  /** Suites under guest-tests/ (a name) or suite folders elsewhere (a path). */
  tests: v.optional(v.array(v.string()), []),
  timeouts: v.optional(TimeoutsSchema, {}),
  /** Run the tree's checkpatch.pl over every patch: off, report (record verdicts), or enforce (errors stop the run). */
  checkpatch: v.optional(v.picklist(["off", "report", "enforce"]), "report"),
  /** Where lore threads are fetched from (a public-inbox "all" URL). */
  lore: v.optional(v.string(), "https://lore.kernel.org/all"),
});
export type Profile = v.InferOutput<typeof ProfileSchema>;

const Count = v.pipe(v.number(), v.integer(), v.minValue(1));

/** Where a series' patches come from when they are not .patch files listed in the manifest. */
export const SeriesSourceSchema = v.union([
  /** A quilt `series` file in the folder (comments and -p options allowed). */
  v.strictObject({ quilt: v.string() }),
  /** An mbox in the folder (or a path): the patches of one [PATCH vN m/n] series, cover and replies skipped. */
  v.strictObject({ mbox: v.string(), version: v.optional(Count) }),
  /** A lore message-id (any message of the thread, usually the cover letter); the thread is fetched and cached. */
  v.strictObject({ lore: v.string(), version: v.optional(Count) }),
  /** Commits base..tip of a local git repository, as `git format-patch` writes them. */
  v.strictObject({ git: v.string(), range: v.pipe(v.string(), v.includes("..", "a range base..tip")) }),
]);
export type SeriesSource = v.InferOutput<typeof SeriesSourceSchema>;

export const SeriesManifestSchema = v.pipe(
  v.strictObject({
    name: Name,
    description: v.optional(v.string()),
    /**
     * What the series was written against: "debian linux-source-6.12", a mainline tag ("v4.18") or a commit.
     * A tree that does not match is refused unless the run is told to try anyway.
     */
    base: v.string(),
    /** Another series (a name under patches/ or a folder) this one applies on top of; it is applied first. */
    after: v.optional(v.string()),
    /** Patch files in this folder, in order of application... */
    patches: v.optional(v.pipe(v.array(v.pipe(v.string(), v.endsWith(".patch", "a .patch file"))), v.minLength(1))),
    /** ...or where to get them. */
    source: v.optional(SeriesSourceSchema),
    /** How many patches the series has (checked whatever the source). */
    count: v.optional(Count),
    /** Notes for whoever builds it: era, toolchain, known problems. */
    notes: v.optional(v.string()),
    /** Kernel parameters the series' code reads (e.g. which device a driver hands to user space), one per entry. */
    append: v.optional(v.array(v.string()), []),
    /**
     * Kconfig fragments the series' code needs (its new options): names under kernel-config/ or paths
     * relative to the series folder. Merged after the profile's (or --fragments'), only when the series is applied.
     */
    fragments: v.optional(v.array(v.string()), []),
  }),
  v.check((m) => (m.patches === undefined) !== (m.source === undefined), "give either patches or source"),
);
export type SeriesManifest = v.InferOutput<typeof SeriesManifestSchema>;

const OptionValue = v.union([v.string(), v.number(), v.boolean()]);

export const QemuDeviceSchema = v.strictObject({
  /** Unique id; also the QEMU id of the device. */
  id: Name,
  /** The -device driver, e.g. virtio-crypto-pci. */
  driver: v.string(),
  /** A backend object created for this device (-object TYPE,id=<id>-backend) and linked by this property. */
  backend: v.optional(v.strictObject({ type: v.string(), property: v.string(), options: v.optional(v.record(v.string(), OptionValue), {}) })),
  options: v.optional(v.record(v.string(), OptionValue), {}),
  /** What the device is for, for the tests and the report (e.g. "kernel-crypto", "user-queue"). */
  role: v.optional(v.string()),
});

/** The configure line FACTS.md measured: aarch64-softmmu only, no UI, no docs, no tools. */
export const DEFAULT_QEMU_CONFIGURE = [
  "--target-list=aarch64-softmmu",
  "--disable-docs",
  "--disable-werror",
  "--disable-install-blobs",
  "--enable-slirp",
  "--enable-fdt=system",
  "--disable-rust",
  "--disable-gtk",
  "--disable-sdl",
  "--disable-vnc",
  "--disable-spice",
  "--disable-opengl",
  "--disable-virglrenderer",
  "--disable-curl",
  "--disable-libusb",
  "--disable-usb-redir",
  "--disable-xkbcommon",
  "--disable-tools",
  "--disable-guest-agent",
  "--python=/usr/bin/python3",
];

/** QEMU built by the harness: a source, a series on it, a configure line, and QEMU's own tests to run. */
export const QemuBuildSchema = v.strictObject({
  source: v.union([
    /** A Debian source package, fetched with apt-get source through a private apt configuration. */
    v.strictObject({
      debian: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9.+-]*$/, "a Debian source package name")),
      version: v.string(),
      /** The suite whose Sources index has that version. */
      suite: v.optional(v.string(), "sid"),
      mirror: v.optional(v.string(), "http://deb.debian.org/debian"),
      keyring: v.optional(v.string(), "/usr/share/keyrings/debian-archive-keyring.gpg"),
    }),
    /** A QEMU git tree of your own, built as it is (HEAD plus local changes). */
    v.strictObject({ path: v.string() }),
  ]),
  /** QEMU series (folders under patches/), applied in order with git am. */
  series: v.optional(v.array(v.string()), []),
  configure: v.optional(v.array(v.string()), DEFAULT_QEMU_CONFIGURE),
  /**
   * "all": every board and device QEMU's configure builds for the target by default; "machine": only the
   * board and devices the machine file names (--without-default-devices), a fraction of the build. A
   * machine file opts in ("all" is the default, which builds whatever a -device may need): each Kconfig gap
   * of a board shows only at link time (for virt on QEMU 10.2.2: CXL, PXB, CXL_MEM_DEVICE, and PCI_BRIDGE
   * for the qtests' pcie-pci-bridge); virt-smmuv3-sva does.
   */
  devices: v.optional(v.picklist(["machine", "all"]), "all"),
  /** Kconfig symbols (QEMU's, CONFIG_ optional) to build in beside the machine's, for what the harness's table does not know. */
  kconfig: v.optional(v.array(v.pipe(v.string(), v.regex(/^(CONFIG_)?[A-Z0-9_]+$/, "a QEMU Kconfig symbol"))), []),
  ccache: v.optional(v.boolean(), true),
  /** qtests (tests/qtest/<name>) built with QEMU and run before any guest boots on it. */
  check: v.optional(v.array(Name), []),
  /** Time for each qtest. */
  checkTimeout: v.optional(Seconds, 300),
});
export type QemuBuildDef = v.InferOutput<typeof QemuBuildSchema>;

/** Where a QEMU to build comes from, as the stages take it (resolved from QemuBuildDef.source). */
export type QemuSourceSpec =
  | {
      kind: "debian";
      package: string;
      version: string;
      /** The Debian suite whose Sources index lists that version (sid for 10.2.2). */
      suite: string;
      mirror: string;
      /** The keyring that signs the mirror's Release file; undefined trusts it unsigned (a local test mirror). */
      keyring?: string;
    }
  | { kind: "path"; path: string };

export const MachineSchema = v.strictObject({
  name: Name,
  description: v.optional(v.string()),
  /** Where the guest runs: an executor under harness/executors/ (local-qemu: QEMU on this host, tests over SSH). */
  executor: v.optional(Name, "local-qemu"),
  /** For executor lava: the lab's device type (qemu: this file's machine as the job's context; a board's, e.g. d06), its tags, its boot method. */
  lava: v.optional(
    v.strictObject({ deviceType: v.optional(v.string(), "qemu"), tags: v.optional(v.array(v.string()), []), bootMethod: v.optional(v.string()) }),
  ),
  /** The emulator on the host (Debian's 7.2 by default)... */
  binary: v.optional(v.string(), "qemu-system-aarch64"),
  /** ...or one the harness builds; then `binary` is not used. */
  qemu: v.optional(QemuBuildSchema),
  /** -global DRIVER.PROP=VALUE, e.g. arm-smmuv3.ssidsize: 20 for the SMMUv3 the machine creates itself. */
  globals: v.optional(v.record(v.pipe(v.string(), v.regex(/^[\w-]+\.[\w-]+$/, "DRIVER.PROPERTY")), OptionValue), {}),
  machine: v.string(),
  accel: v.optional(v.string(), "tcg"),
  cpu: v.string(),
  smp: v.pipe(v.number(), v.integer(), v.minValue(1)),
  memory: v.string(),
  /** Kernel command line, one parameter per entry. */
  append: v.array(v.string()),
  network: v.strictObject({
    driver: v.string(),
    options: v.optional(v.record(v.string(), OptionValue), {}),
  }),
  devices: v.optional(v.array(QemuDeviceSchema), []),
});
export type MachineDef = v.InferOutput<typeof MachineSchema>;
export type QemuDevice = v.InferOutput<typeof QemuDeviceSchema>;

/** Which SMMU events a test provokes: every field given must match the event. */
const SmmuEventFilterSchema = v.strictObject({
  /** Event name(s) as the SMMUv3 architecture spells them (F_TRANSLATION, C_BAD_CD, ...). */
  event: v.optional(v.union([v.string(), v.pipe(v.array(v.string()), v.minLength(1))])),
  /** The device, "0000:00:03.0": the kernel's "client:" (7.2), or the PCI device whose requester ID the StreamID is (6.12). */
  client: v.optional(v.string()),
  sid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** The SubstreamID (PASID) the access carried. */
  ssid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
/**
 * What a guest test provokes on purpose, so it is attributed to the test instead of failing the run:
 * `smmu-event` (any SMMU event) or `{ smmu-event: { event, client, sid, ssid } }` (only those).
 */
export const TestExpectationSchema = v.union([v.literal("smmu-event"), v.strictObject({ "smmu-event": SmmuEventFilterSchema })]);
export type TestExpectation = v.InferOutput<typeof TestExpectationSchema>;
export type SmmuEventFilter = v.InferOutput<typeof SmmuEventFilterSchema>;

export const SuiteSchema = v.strictObject({
  name: Name,
  description: v.optional(v.string()),
  tests: v.pipe(
    v.array(
      v.strictObject({
        name: Name,
        /** A file in the suite folder: *.sh runs under busybox sh, *.c is cross-compiled static. */
        run: v.pipe(v.string(), v.regex(/\.(sh|c)$/, "a .sh or .c file")),
        timeout: v.optional(Seconds, 60),
        description: v.optional(v.string()),
        /** Kernel reports the test provokes on purpose (README, "Guest tests"). */
        expects: v.optional(v.array(TestExpectationSchema), []),
      }),
    ),
    v.minLength(1),
  ),
});
export type SuiteDef = v.InferOutput<typeof SuiteSchema>;
