"""Indonesian names for units and the catalogue of IKU templates lines are drawn from."""
from __future__ import annotations

from dataclasses import dataclass

# The ministry's Eselon I units (code, name); small and tiny scales use only the first entry.
ESELON_I = (
    ("DJPB", "Direktorat Jenderal Perbendaharaan"),
    ("SETJEN", "Sekretariat Jenderal"),
    ("ITJEN", "Inspektorat Jenderal"),
    ("DJA", "Direktorat Jenderal Anggaran"),
    ("DJP", "Direktorat Jenderal Pajak"),
    ("DJBC", "Direktorat Jenderal Bea dan Cukai"),
    ("DJKN", "Direktorat Jenderal Kekayaan Negara"),
    ("DJPK", "Direktorat Jenderal Perimbangan Keuangan"),
    ("DJPPR", "Direktorat Jenderal Pengelolaan Pembiayaan dan Risiko"),
    ("BKF", "Badan Kebijakan Fiskal"),
    ("BPPK", "Badan Pendidikan dan Pelatihan Keuangan"),
    ("DJSEF", "Direktorat Jenderal Stabilitas dan Pengembangan Sektor Keuangan"),
)

TOPICS = (
    "Perencanaan", "Kepatuhan Internal", "Umum", "Keuangan", "Kepegawaian", "Hukum",
    "Teknologi Informasi", "Pelaporan", "Evaluasi Kinerja", "Pengawasan", "Penerimaan",
    "Pelayanan", "Data dan Informasi", "Kerja Sama", "Analisis Kebijakan", "Penilaian",
    "Pengelolaan Kas", "Akuntansi", "Sistem Informasi", "Pembinaan", "Verifikasi",
    "Pemeriksaan", "Penagihan", "Administrasi", "Tata Usaha", "Organisasi", "Pengadaan",
    "Penyuluhan", "Litigasi", "Manajemen Risiko",
)

PROVINCES = (
    "Aceh", "Sumatera Utara", "Sumatera Barat", "Riau", "Jambi", "Sumatera Selatan", "Bengkulu",
    "Lampung", "Kepulauan Bangka Belitung", "Kepulauan Riau", "DKI Jakarta", "Jawa Barat",
    "Jawa Tengah", "DI Yogyakarta", "Jawa Timur", "Banten", "Bali", "Nusa Tenggara Barat",
    "Nusa Tenggara Timur", "Kalimantan Barat", "Kalimantan Tengah", "Kalimantan Selatan",
    "Kalimantan Timur", "Kalimantan Utara", "Sulawesi Utara", "Sulawesi Tengah",
    "Sulawesi Selatan", "Sulawesi Tenggara", "Gorontalo", "Sulawesi Barat", "Maluku",
    "Maluku Utara", "Papua", "Papua Barat",
)

SASARAN = {
    "SS-01": ("stakeholder", "Pengelolaan keuangan negara yang akuntabel"),
    "SS-02": ("stakeholder", "Penerimaan negara yang optimal"),
    "SS-03": ("customer", "Layanan publik yang prima"),
    "SS-04": ("customer", "Kepuasan pemangku kepentingan yang tinggi"),
    "SS-05": ("internal_process", "Proses bisnis yang efektif dan efisien"),
    "SS-06": ("internal_process", "Pengawasan dan pengendalian yang andal"),
    "SS-07": ("learning_growth", "SDM yang kompeten dan berintegritas"),
    "SS-08": ("learning_growth", "Sistem informasi yang terintegrasi"),
}


@dataclass(frozen=True)
class IkuTemplate:
    """How lines of one kind of indicator look and how their trajectory is drawn.

    shape: cum (cumulative to Y), sum (counts per quarter), avg_up / avg_down (drifting level),
    const (same every quarter), semester (Q2 and Q4 only), annual (Q4 only), zero (target 0).
    """
    name: str
    ss_code: str
    polarity: str
    consolidation: str
    progress: bool | None
    aspect: str
    unit_of_measure: str
    shape: str
    low: float
    high: float
    step: float
    target_is_max: bool
    pick_weight: float


TEMPLATES = (
    IkuTemplate("Persentase penyerapan anggaran", "SS-01", "maximize", "take_last_known", True,
                "biaya", "persen", "cum", 90, 100, 1, False, 10),
    IkuTemplate("Persentase capaian penerimaan negara", "SS-02", "maximize", "take_last_known",
                True, "kuantitas", "persen", "cum", 95, 100, 1, False, 5),
    IkuTemplate("Indeks kepuasan pengguna layanan", "SS-04", "maximize", "average", None,
                "kualitas", "indeks", "avg_up", 3.5, 4.3, 0.05, False, 8),
    IkuTemplate("Persentase layanan yang diselesaikan tepat waktu", "SS-03", "maximize",
                "take_last_known", False, "waktu", "persen", "const", 90, 99, 1, False, 8),
    IkuTemplate("Jumlah rekomendasi kebijakan yang ditindaklanjuti", "SS-01", "maximize", "sum",
                None, "kuantitas", "rekomendasi", "sum", 2, 6, 1, False, 8),
    IkuTemplate("Jumlah kajian yang diselesaikan", "SS-05", "maximize", "sum", None, "kuantitas",
                "dokumen", "sum", 1, 4, 1, False, 8),
    IkuTemplate("Rata-rata waktu penyelesaian layanan", "SS-03", "minimize", "average", None,
                "waktu", "hari", "avg_down", 3, 10, 0.5, False, 6),
    IkuTemplate("Tingkat deviasi realisasi kas terhadap rencana", "SS-06", "stabilize",
                "average", None, "kualitas", "persen", "const", 4, 6, 0.5, False, 5),
    IkuTemplate("Opini BPK atas laporan keuangan", "SS-01", "maximize", "take_last_known", False,
                "kualitas", "indeks", "annual", 4, 4, 1, True, 2),
    IkuTemplate("Persentase kepatuhan pelaporan tepat waktu", "SS-06", "maximize",
                "take_last_known", False, "kualitas", "persen", "const", 100, 100, 1, True, 4),
    IkuTemplate("Nilai evaluasi SAKIP", "SS-05", "maximize", "take_last_known", False,
                "kualitas", "nilai", "semester", 75, 85, 0.5, False, 3),
    IkuTemplate("Jumlah jam pelatihan per pegawai", "SS-07", "maximize", "sum", None,
                "kuantitas", "jam", "sum", 5, 10, 1, False, 6),
    IkuTemplate("Persentase pegawai yang memenuhi standar kompetensi", "SS-07", "maximize",
                "average", None, "kualitas", "persen", "avg_up", 80, 90, 0.5, False, 5),
    IkuTemplate("Persentase penyelesaian tindak lanjut temuan", "SS-06", "maximize",
                "take_last_known", True, "waktu", "persen", "cum", 90, 100, 1, False, 6),
    IkuTemplate("Rasio biaya operasional layanan", "SS-05", "minimize", "average", None, "biaya",
                "persen", "avg_down", 20, 40, 0.5, False, 4),
    IkuTemplate("Indeks ketersediaan sistem informasi", "SS-08", "maximize", "average", None,
                "kualitas", "persen", "avg_up", 95, 99, 0.1, False, 4),
    IkuTemplate("Jumlah temuan berulang hasil pemeriksaan", "SS-06", "minimize", "sum", None,
                "kualitas", "temuan", "zero", 0, 0, 1, False, 0.25),
    IkuTemplate("Realisasi belanja modal", "SS-01", "maximize", "sum", None, "biaya", "rupiah",
                "sum", 50_000_000, 200_000_000, 1_000_000, False, 3),
    IkuTemplate("Indeks integritas pegawai", "SS-07", "maximize", "take_last_known", False,
                "kualitas", "indeks", "annual", 85, 95, 0.5, False, 2),
)

# Sum targets grow with the unit's size: a quarterly count at level L is the template's
# staff-level draw times this factor (cascading then splits it downwards).
SUM_LEVEL_FACTOR = (40, 20, 8, 4, 2, 1)
