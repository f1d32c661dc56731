<?xml version="1.0"?>
<!--
  cpm_mms: DocBook to single-file HTML for the plain-text README (the HTML
  is then dumped as text). Uses Debian's docbook-xsl through the system XML
  catalog (/etc/xml/catalog), so it works offline.
  Copyright (C) 2026 cpm_mms authors
  SPDX-License-Identifier: GPL-2.0-or-later
-->
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
	xmlns:l="http://docbook.sourceforge.net/xmlns/l10n/1.0" version="1.0">
	<xsl:import href="http://docbook.sourceforge.net/release/xsl/current/html/docbook.xsl"/>

	<xsl:output method="html" encoding="UTF-8" indent="no"/>
	<xsl:param name="chunker.output.encoding">UTF-8</xsl:param>
	<xsl:param name="section.autolabel">1</xsl:param>
	<xsl:param name="section.label.includes.component.label">1</xsl:param>
	<xsl:param name="generate.toc">book toc,title,table</xsl:param>
	<xsl:param name="toc.section.depth">2</xsl:param>
	<xsl:param name="generate.section.toc.level">0</xsl:param>
	<xsl:param name="html.cleanup">1</xsl:param>
	<xsl:param name="make.valid.html">1</xsl:param>
	<xsl:param name="css.decoration">0</xsl:param>
	<xsl:param name="table.borders.with.css">0</xsl:param>
	<xsl:param name="default.table.frame">all</xsl:param>
	<xsl:param name="ulink.show">0</xsl:param>

	<!-- the README is US-ASCII text: ASCII dingbats and quotes -->
	<xsl:template name="dingbat.characters">
		<xsl:param name="dingbat">bullet</xsl:param>
		<xsl:choose>
			<xsl:when test="$dingbat='bullet'">*</xsl:when>
			<xsl:when test="$dingbat='copyright'">(C)</xsl:when>
			<xsl:when test="$dingbat='trademark' or $dingbat='trade'">(TM)</xsl:when>
			<xsl:when test="$dingbat='registered'">(R)</xsl:when>
			<xsl:when test="$dingbat='service'">(SM)</xsl:when>
			<xsl:when test="$dingbat='nbsp'">&#x00A0;</xsl:when>
			<xsl:when test="$dingbat='ldquo' or $dingbat='rdquo'">"</xsl:when>
			<xsl:when test="$dingbat='lsquo' or $dingbat='rsquo'">'</xsl:when>
			<xsl:when test="$dingbat='em-dash'">--</xsl:when>
			<xsl:when test="$dingbat='en-dash'">-</xsl:when>
			<xsl:otherwise>*</xsl:otherwise>
		</xsl:choose>
	</xsl:template>

	<xsl:param name="local.l10n.xml" select="document('')"/>
	<l:i18n>
		<l:l10n language="en">
			<l:dingbat key="startquote" text='"'/>
			<l:dingbat key="endquote" text='"'/>
			<l:dingbat key="nestedstartquote" text="'"/>
			<l:dingbat key="nestedendquote" text="'"/>
			<l:context name="xref-number-and-title">
				<l:template name="section" text='Section %n, "%t"'/>
				<l:template name="table" text='Table %n, "%t"'/>
				<l:template name="example" text='Example %n, "%t"'/>
			</l:context>
			<l:context name="xref">
				<l:template name="section" text='the section called "%t"'/>
			</l:context>
		</l:l10n>
	</l:i18n>
</xsl:stylesheet>
