"""Methods sentences written from the study log, in English and Chinese.

Each ``m_*`` function returns one sentence (or None when the log has nothing
on that topic) and reads the log only through a :class:`Collector`, so the
checklist can show which recorded values a sentence rests on. Numbers are
formatted as radiology journals print them: AUC and ICC to 2 decimals with the
95% CI, p-values with :func:`radnb._utils.formatting.format_p`.
"""
from __future__ import annotations


EXT, COH, SRC = "extract.extract_features", "cohort.validate", "datasets.load_demo_cohort"
ICC, ICCF, CB = "reproducibility.feature_icc", "reproducibility.ICCFilter", "harmonize.ComBat"
RS, T1 = "stats.radscore_model", "stats.table_one"

#: Citations used in the text, keyed by short name.
REFERENCES = {
    "pyradiomics": "van Griethuysen JJM, Fedorov A, Parmar C, et al. Computational radiomics system "
                   "to decode the radiographic phenotype. Cancer Res 2017;77(21):e104-e107.",
    "ibsi": "Zwanenburg A, Vallières M, Abdalah MA, et al. The Image Biomarker Standardization "
            "Initiative. Radiology 2020;295(2):328-338.",
    "icc": "Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. "
           "Psychol Bull 1979;86(2):420-428.",
    "koo": "Koo TK, Li MY. A guideline of selecting and reporting intraclass correlation "
           "coefficients for reliability research. J Chiropr Med 2016;15(2):155-163.",
    "combat": "Johnson WE, Li C, Rabinovic A. Adjusting batch effects in microarray expression data "
              "using empirical Bayes methods. Biostatistics 2007;8(1):118-127.",
    "fortin": "Fortin JP, Cullen N, Sheline YI, et al. Harmonization of cortical thickness "
              "measurements across scanners and sites. NeuroImage 2018;167:104-120.",
    "lasso": "Tibshirani R. Regression shrinkage and selection via the lasso. J R Stat Soc B "
             "1996;58(1):267-288.",
    "nested": "Varma S, Simon R. Bias in error estimation when using cross-validation for model "
              "selection. BMC Bioinformatics 2006;7:91.",
    "delong": "DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more "
              "correlated receiver operating characteristic curves: a nonparametric approach. "
              "Biometrics 1988;44(3):837-845.",
    "calibration": "Van Calster B, McLernon DJ, van Smeden M, et al. Calibration: the Achilles heel "
                   "of predictive analytics. BMC Med 2019;17:230.",
    "dca": "Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating "
           "prediction models. Med Decis Making 2006;26(6):565-574.",
    "sklearn": "Pedregosa F, Varoquaux G, Gramfort A, et al. Scikit-learn: machine learning in "
               "Python. J Mach Learn Res 2011;12:2825-2830.",
}

CLASSES = {"shape": ("shape", "形态特征"), "firstorder": ("first-order", "一阶特征"),
           "glcm": ("GLCM", "灰度共生矩阵（GLCM）"), "glrlm": ("GLRLM", "灰度游程矩阵（GLRLM）"),
           "glszm": ("GLSZM", "灰度区域大小矩阵（GLSZM）"), "gldm": ("GLDM", "灰度依赖矩阵（GLDM）"),
           "ngtdm": ("NGTDM", "邻域灰度差矩阵（NGTDM）")}
INTERP = {"sitkBSpline": ("B-spline", "B样条"), "sitkLinear": ("linear", "线性"),
          "sitkNearestNeighbor": ("nearest-neighbour", "最近邻")}


def t(lang, en, zh):
    return en if lang == "en" else zh


def f2(x, d=2):
    return f"{x:.{d}f}"


def ci(lo, hi, lang, d=2):
    return t(lang, f"95% CI: {lo:.{d}f}, {hi:.{d}f}", f"95% CI：{lo:.{d}f}～{hi:.{d}f}")


def join(items, lang):
    items = [str(i) for i in items]
    if lang == "zh":
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def mm(values):
    return "×".join(f"{float(v):g}" for v in values) + " mm"


# -- Methods --------------------------------------------------------------------------------
def m_source(c, lang):
    src = c.get(SRC, "source")
    if src is None:
        return None
    n, k = c.get(SRC, "n_patients"), c.get(SRC, "n_sites")
    return t(lang, f"The analysis used the {src} ({n} patients, {k} sites).",
             f"本分析使用radnb生成的合成演示队列（{n}例，{k}个中心），不含真实患者数据。")


def m_cohort(c, lang):
    if not c.has(COH):
        return None
    n, p = c.get(COH, "n_rows"), c.get(COH, "n_patients")
    return t(lang, f"Before extraction, all {n} image-mask pairs of {p} patients were checked "
                   "for readability, matching geometry, mask labels and region-of-interest size.",
             f"特征提取前，对{p}例患者的全部{n}对图像与掩膜进行了可读性、几何一致性、标签及感兴趣区大小检查。")


def m_segmentation(c, lang):
    readers = c.get(COH, "readers")
    seg = c.get(SRC, "segmentation")
    if seg:
        return t(lang, f"Segmentations: {seg}.", "分割：模拟的主阅片者与第二阅片者勾画的掩膜。")
    if readers:
        return t(lang, f"Regions of interest were segmented by {len(readers)} reader(s).",
                 f"感兴趣区由{len(readers)}名阅片者勾画。")
    return None


def m_software(c, lang):
    if not c.has(EXT):
        return None
    v, r, s = c.get(EXT, "pyradiomics"), c.get(EXT, "radnb"), c.get(EXT, "SimpleITK")
    return t(lang, f"Radiomic features were extracted with PyRadiomics {v} [pyradiomics] (radnb "
                   f"{r}, SimpleITK {s}); PyRadiomics follows the Image Biomarker Standardization "
                   "Initiative definitions [ibsi].",
             f"采用PyRadiomics {v}[pyradiomics]（radnb {r}，SimpleITK {s}）提取影像组学特征，"
             "其特征定义遵循影像生物标志物标准化倡议（IBSI）[ibsi]。")


def m_resampling(c, lang):
    spacing = c.get(EXT, "settings.setting.resampledPixelSpacing")
    own = c.study.find("preprocess.resample")
    if spacing:
        name = c.get(EXT, "settings.setting.interpolator")
        interp = INTERP.get(name, (name, name))
        return t(lang, f"Images were resampled to {mm(spacing)} voxels with {interp[0]} "
                       "interpolation before extraction.",
                 f"提取前将图像重采样为{mm(spacing)}体素，采用{interp[1]}插值。")
    if own:
        sp = c.get("preprocess.resample", "spacing", entry=own[-1])
        it = c.get("preprocess.resample", "interpolator", entry=own[-1])
        return t(lang, f"Images were resampled to {mm(sp)} voxels ({it} interpolation).",
                 f"图像重采样为{mm(sp)}体素（{it}插值）。")
    if c.has(EXT):
        return t(lang, "Images were not resampled (native voxel spacing).",
                 "图像未重采样（保持原始体素间距）。")
    return None


def m_preprocessing(c, lang):
    if not c.has(EXT):
        return None
    parts = []
    if c.get(EXT, "settings.setting.normalize"):
        sc = c.get(EXT, "settings.setting.normalizeScale")
        parts.append(t(lang, f"intensities were z-score normalised (scale {sc:g})",
                       f"灰度经z-score标准化（缩放系数{sc:g}）"))
    shift = c.get(EXT, "settings.setting.voxelArrayShift")
    if shift:
        parts.append(t(lang, f"a voxel array shift of {shift:g} was applied for first-order energy "
                             "features", f"一阶能量特征采用{shift:g}的体素值偏移"))
    rng = c.get(EXT, "settings.setting.resegmentRange")
    if rng:
        parts.append(t(lang, f"the ROI was re-segmented to intensities {rng[0]:g} to {rng[-1]:g}",
                       f"感兴趣区按灰度{rng[0]:g}～{rng[-1]:g}重新分割"))
    for e in c.study.find("preprocess.normalize")[-1:]:
        parts.append(t(lang, f"images were normalised ({c.get('preprocess.normalize', 'method', entry=e)})",
                       f"图像经{c.get('preprocess.normalize', 'method', entry=e)}标准化"))
    if not parts:
        parts.append(t(lang, "no intensity normalisation was applied", "未进行灰度标准化"))
    text = join(parts, lang)
    return t(lang, text[0].upper() + text[1:] + ".", text + "。")


def m_discretisation(c, lang):
    bw = c.get(EXT, "settings.setting.binWidth")
    bc = c.get(EXT, "settings.setting.binCount")
    if bc:
        return t(lang, f"Intensities were discretised into a fixed bin count of {bc:g}.",
                 f"灰度离散化采用固定组数{bc:g}。")
    if bw:
        unit = " HU" if str(c.get(EXT, "params", "")).startswith("ct") else ""
        return t(lang, f"Intensities were discretised with a fixed bin width of {bw:g}{unit}.",
                 f"灰度离散化采用固定组距{bw:g}{unit}。")
    return None


def _image_types(c, lang):
    types = c.get(EXT, "settings.imageType") or {}
    out = []
    for name, kw in types.items():
        if name == "Original":
            out.append(t(lang, "the original image", "原始图像"))
        elif name == "LoG":
            s = ", ".join(f"{x:g}" for x in (kw or {}).get("sigma", []))
            out.append(t(lang, f"Laplacian-of-Gaussian filtered images (σ = {s} mm)",
                         f"高斯拉普拉斯滤波图像（σ = {s} mm）"))
        elif name == "Wavelet":
            out.append(t(lang, "wavelet-decomposed images", "小波分解图像"))
        else:
            out.append(t(lang, f"{name} filtered images", f"{name}滤波图像"))
    return out


def m_features(c, lang):
    if not c.has(EXT):
        return None
    classes = [CLASSES.get(k, (k, k))[0 if lang == "en" else 1]
               for k in (c.get(EXT, "settings.featureClass") or {})]
    n = c.get(EXT, "n_features")
    return t(lang, f"{n} hand-crafted features of the classes {join(classes, lang)} were computed "
                   f"from {join(_image_types(c, lang), lang)}; all other settings were "
                   "PyRadiomics defaults (full settings in the study log).",
             f"从{join(_image_types(c, lang), lang)}计算{join(classes, lang)}共{n}个手工特征；"
             "其余参数为PyRadiomics默认值（完整设置见研究日志）。")


def m_reproducibility(c, lang):
    if not (c.has(ICC) or c.has(ICCF)):
        return None
    form = c.get(ICC, "icc_type") or c.get(ICCF, "icc_type")
    by = c.get(ICC, "by") or c.get(ICCF, "by")
    s = t(lang, f"Feature reproducibility between {by}s was assessed with the intraclass "
                f"correlation coefficient {form} (two-way random effects, absolute agreement, "
                "single measurement) [icc].",
          f"采用组内相关系数{form}（双向随机效应、绝对一致性、单次测量）评估{t(lang, by, '阅片者' if by == 'reader' else by)}间特征可重复性[icc]。")
    if c.has(ICCF):
        thr, bound = c.get(ICCF, "threshold"), c.get(ICCF, "ci")
        what = {"lower": t(lang, "the lower bound of their 95% CI", "其95% CI下限"),
                "point": t(lang, "the ICC", "ICC")}.get(bound, bound)
        s += t(lang, f" Features were kept when {what} was at least {thr:.2f} [koo].",
               f"仅保留{what}≥{thr:.2f}的特征[koo]。")
    return s


def combat_entry(c):
    """The ComBat entry of the main analysis: your own call, else the one inside the Rad-score."""
    entries = c.study.find(CB, own=False)
    main = [e for e in entries if c.study._own(e)] or [
        e for e in entries if "radnb.stats" in (e["within"] or "")] or entries
    return main[-1] if main else None


def m_harmonisation(c, lang):
    e = combat_entry(c)
    if e is None:
        return None
    col, k = c.get(CB, "batch_col", entry=e), c.get(CB, "n_sites", entry=e)
    cov = c.get(CB, "covariates", entry=e)
    inside = bool(c.get(RS, "harmonize"))
    par = c.get(CB, "parametric", entry=e)
    s = t(lang, f"Site effects ({k} sites, column '{col}') were removed with "
                f"{'parametric' if par else 'non-parametric'} empirical-Bayes "
                "ComBat [combat, fortin]",
          f"采用{'参数' if par else '非参数'}经验贝叶斯ComBat对{k}个中心"
          f"（列'{col}'）的批次效应进行数据协调[combat, fortin]")
    if cov:
        s += t(lang, f", preserving {join(cov, lang)}", f"，保留{join(cov, lang)}的生物学差异")
    if inside:
        s += t(lang, "; ComBat was fitted on the training folds only", "；ComBat仅在训练折中拟合")
    return s + t(lang, ".", "。")


def m_model(c, lang):
    if not c.has(RS):
        return None
    thr, cs = c.get(RS, "correlation_threshold"), c.get(RS, "Cs")
    k_in, k_out = c.get(RS, "inner_cv"), c.get(RS, "outer_cv")
    rule = c.get(RS, "rule")
    rule_en = "the sparsest model within one standard error of the best" if rule == "1se" else \
        "the best"
    rule_zh = "最佳AUC一个标准误内最稀疏的模型" if rule == "1se" else "AUC最佳的模型"
    return t(lang,
             f"Inside every training fold, features were standardised (z-score), redundant "
             f"features (Spearman |ρ| > {thr:.2f}) were removed, and "
             f"{'an' if c.get(RS, 'model')[:2] in ('L1', 'el') else 'a'} {c.get(RS, 'model')} "
             f"[lasso] was fitted; its penalty (C, {len(cs)} values from {min(cs):g} to "
             f"{max(cs):g}) was chosen by {k_in}-fold inner cross-validation on AUC, taking "
             f"{rule_en} inner AUC. Performance was estimated by stratified {k_out}-fold nested "
             f"cross-validation (seed {c.get(RS, 'seed')}) [nested], so that no test fold took "
             "part in any choice. The final Rad-score was refitted on all patients.",
             f"在每个训练折内对特征进行z-score标准化，剔除冗余特征（Spearman |ρ| > {thr:.2f}），"
             f"并拟合{'LASSO' if 'L1' in c.get(RS, 'model') else '弹性网络'}逻辑回归模型[lasso]；惩罚参数C（{len(cs)}个候选值，"
             f"{min(cs):g}～{max(cs):g}）通过{k_in}折内层交叉验证按AUC选择，取{rule_zh}。"
             f"采用分层{k_out}折嵌套交叉验证（随机种子{c.get(RS, 'seed')}）评估模型性能[nested]，"
             "测试折不参与任何选择，避免数据泄露。最终影像组学评分在全部患者上重新拟合。")


def m_missing(c, lang):
    if not (c.has(RS) or c.has(EXT)):
        return None
    failed = c.get(EXT, "n_failed", 0)
    excl = c.get(RS, "n_excluded", 0)
    return t(lang, f"Cases whose extraction failed ({failed}) or with a missing feature value "
                   f"({excl}) were excluded (complete-case analysis); no values were imputed.",
             f"特征提取失败（{failed}例）或存在缺失特征值（{excl}例）的病例予以排除"
             "（完整病例分析），未进行插补。")


def m_statistics(c, lang):
    parts = []
    aucs = c.study.find("evaluate.roc_auc_ci")
    if aucs or c.has(RS):
        method = c.get("evaluate.roc_auc_ci", "method", entry=aucs[-1]) if aucs else "delong"
        parts.append(t(lang, "Discrimination was measured by the area under the ROC curve (AUC) "
                             f"with 95% CIs ({'DeLong' if method == 'delong' else 'bootstrap'} "
                             "method [delong])",
                       "以受试者工作特征曲线下面积（AUC）及其95% CI（"
                       f"{'DeLong法' if method == 'delong' else 'Bootstrap法'}）评价区分度[delong]"))
    if c.study.find("evaluate.delong_test"):
        parts.append(t(lang, "AUCs were compared with the DeLong test", "AUC比较采用DeLong检验"))
    if c.study.find("evaluate.calibration"):
        parts.append(t(lang, "calibration by the calibration intercept and slope, the Brier score "
                             "and the Hosmer-Lemeshow test [calibration]",
                       "以校准截距、校准斜率、Brier评分及Hosmer-Lemeshow检验评价校准度[calibration]"))
    dca = c.study.find("evaluate.decision_curve")
    if dca:
        lo, hi = c.get("evaluate.decision_curve", "thresholds", entry=dca[-1])
        parts.append(t(lang, f"clinical usefulness by decision curve analysis over threshold "
                             f"probabilities {lo:.2f} to {hi:.2f} [dca]",
                       f"以决策曲线分析（阈值概率{lo:.2f}～{hi:.2f}）评价临床净获益[dca]"))
    if c.study.find("evaluate.external_validation"):
        e = c.study.find("evaluate.external_validation")[-1]
        sites = c.get("evaluate.external_validation", "test_sites", entry=e)
        parts.append(t(lang, f"external validation held out site(s) {join(sites, lang)} "
                             "(models trained on the other sites)",
                       f"外部验证依次留出中心{join(sites, lang)}（模型在其余中心训练）"))
    tests = sorted({str(n).split(" (")[0] for n in c.get(T1, "tests", []) or [] if n and str(n) != "nan"})
    if tests:
        parts.append(t(lang, f"patient characteristics were compared between groups with the "
                             f"{join(tests, lang)} test(s), chosen in advance without a normality "
                             "pretest",
                       f"组间临床特征比较采用{join(tests, lang)}检验（预先确定，未做正态性预检验）"))
    if not parts:
        return None
    text = join(parts, lang)
    text = text[:1].upper() + text[1:]
    return t(lang, text + ". Analyses used Python with scikit-learn [sklearn] and statsmodels; "
                          "two-sided P < .05 was considered significant.",
             text + "。统计分析采用Python（scikit-learn [sklearn]、statsmodels），"
                    "双侧P < 0.05为差异有统计学意义。")


METHODS = (m_source, m_cohort, m_segmentation, m_software, m_resampling, m_preprocessing,
           m_discretisation, m_features, m_reproducibility, m_harmonisation, m_model, m_missing,
           m_statistics)
