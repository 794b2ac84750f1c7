// SMMUv3 event record names by event id (Arm IHI 0070, "Event records"): what the kernel's event words
// decode to, and the names a suite.yaml `expects:` may use.
export const SMMU_EVENT_NAMES: Record<number, string> = {
  0x01: "F_UUT",
  0x02: "C_BAD_STREAMID",
  0x03: "F_STE_FETCH",
  0x04: "C_BAD_STE",
  0x05: "F_BAD_ATS_TREQ",
  0x06: "F_STREAM_DISABLED",
  0x07: "F_TRANSL_FORBIDDEN",
  0x08: "C_BAD_SUBSTREAMID",
  0x09: "F_CD_FETCH",
  0x0a: "C_BAD_CD",
  0x0b: "F_WALK_EABT",
  0x10: "F_TRANSLATION",
  0x11: "F_ADDR_SIZE",
  0x12: "F_ACCESS",
  0x13: "F_PERMISSION",
  0x20: "F_TLB_CONFLICT",
  0x21: "F_CFG_CONFLICT",
  0x24: "E_PAGE_REQUEST",
  0x25: "F_VMS_FETCH",
};
