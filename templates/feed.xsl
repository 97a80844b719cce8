<?xml version="1.0" encoding="utf-8"?>
<!--
  Shows an RSS 2.0 or Atom 1.0 feed as a page when someone opens it in a browser: the feed's
  title and description, how to follow it in a feed reader, and its posts. Feed readers ignore it.
  Replace it with your own templates/feed.xsl (XSLT 1.0, which is all browsers run).

  Every value is copied as text, never as markup, and only http(s) links are made: a feed's
  contents cannot put anything executable on the page.
-->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">

  <xsl:output method="html" encoding="utf-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="upper" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="lower" select="'abcdefghijklmnopqrstuvwxyz'"/>

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="rss/channel">
        <xsl:call-template name="page">
          <xsl:with-param name="language" select="rss/channel/language"/>
          <xsl:with-param name="title" select="rss/channel/title"/>
          <xsl:with-param name="description" select="rss/channel/description"/>
          <xsl:with-param name="site" select="rss/channel/link"/>
          <xsl:with-param name="self" select="rss/channel/atom:link[@rel = 'self']/@href"/>
          <xsl:with-param name="posts" select="rss/channel/item"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="page">
          <xsl:with-param name="language" select="atom:feed/@xml:lang"/>
          <xsl:with-param name="title" select="atom:feed/atom:title"/>
          <xsl:with-param name="description" select="atom:feed/atom:subtitle"/>
          <xsl:with-param name="site" select="atom:feed/atom:link[@rel = 'alternate' or not(@rel)]/@href"/>
          <xsl:with-param name="self" select="atom:feed/atom:link[@rel = 'self']/@href"/>
          <xsl:with-param name="posts" select="atom:feed/atom:entry"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="page">
    <xsl:param name="language"/>
    <xsl:param name="title"/>
    <xsl:param name="description"/>
    <xsl:param name="site"/>
    <xsl:param name="self"/>
    <xsl:param name="posts"/>
    <html lang="{$language}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          body { font: 17px/1.6 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; background: #fff; }
          a { color: #0b62d6; }
          h1 { font-size: 1.8rem; line-height: 1.25; margin: 0 0 .25rem; }
          .note { background: #f3f6fa; border: 1px solid #d5dde8; border-radius: 8px; padding: .75rem 1rem; margin: 1.25rem 0 2rem; }
          .note p { margin: 0; }
          .note code { display: block; margin-top: .4rem; word-break: break-all; font-size: .95rem; }
          .posts { list-style: none; padding: 0; }
          .posts li { margin: 0 0 1.5rem; }
          .posts h2 { font-size: 1.15rem; margin: 0; }
          time { color: #59636e; font-size: .9rem; }
          .summary { margin: .25rem 0 0; }
          @media (prefers-color-scheme: dark) {
            body { color: #e6edf3; background: #0d1117; }
            a { color: #58a6ff; }
            .note { background: #161b22; border-color: #30363d; }
            time { color: #9198a1; }
          }
        </style>
      </head>
      <body>
        <h1><xsl:value-of select="$title"/></h1>
        <xsl:if test="normalize-space($description)">
          <p><xsl:value-of select="$description"/></p>
        </xsl:if>
        <div class="note">
          <p>This is a web feed. Copy its address into your feed reader app to follow new posts.</p>
          <xsl:if test="$self"><code><xsl:value-of select="$self"/></code></xsl:if>
        </div>
        <xsl:if test="$site">
          <p>
            <xsl:call-template name="link">
              <xsl:with-param name="href" select="$site"/>
              <xsl:with-param name="text">Visit the website</xsl:with-param>
            </xsl:call-template>
          </p>
        </xsl:if>
        <ul class="posts">
          <xsl:apply-templates select="$posts"/>
        </ul>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="link"/>
          <xsl:with-param name="text" select="title"/>
        </xsl:call-template>
      </h2>
      <xsl:if test="pubDate">
        <!-- "Wed, 28 Jan 2026 00:00:00 GMT": the day is enough. -->
        <time><xsl:value-of select="substring(pubDate, 1, 16)"/></time>
      </xsl:if>
      <xsl:call-template name="summary">
        <!-- An RSS description is HTML. -->
        <xsl:with-param name="text">
          <xsl:call-template name="html-text">
            <xsl:with-param name="html" select="description"/>
          </xsl:call-template>
        </xsl:with-param>
      </xsl:call-template>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="date">
      <xsl:choose>
        <xsl:when test="atom:published"><xsl:value-of select="atom:published"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="atom:updated"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <li>
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="atom:link[@rel = 'alternate' or not(@rel)]/@href"/>
          <xsl:with-param name="text" select="atom:title"/>
        </xsl:call-template>
      </h2>
      <xsl:if test="string($date)">
        <time datetime="{$date}"><xsl:value-of select="substring($date, 1, 10)"/></time>
      </xsl:if>
      <xsl:call-template name="summary">
        <xsl:with-param name="text">
          <xsl:choose>
            <xsl:when test="atom:summary/@type = 'html'">
              <xsl:call-template name="html-text">
                <xsl:with-param name="html" select="atom:summary"/>
              </xsl:call-template>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="atom:summary"/></xsl:otherwise>
          </xsl:choose>
        </xsl:with-param>
      </xsl:call-template>
    </li>
  </xsl:template>

  <!-- A link only to an http(s) address: a javascript: or data: one is shown as plain text. -->
  <xsl:template name="link">
    <xsl:param name="href"/>
    <xsl:param name="text"/>
    <xsl:variable name="scheme" select="translate(substring-before(normalize-space($href), ':'), $upper, $lower)"/>
    <xsl:choose>
      <xsl:when test="$scheme = 'https' or $scheme = 'http'">
        <a href="{normalize-space($href)}"><xsl:value-of select="$text"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="summary">
    <xsl:param name="text"/>
    <xsl:variable name="clean" select="normalize-space($text)"/>
    <xsl:if test="$clean">
      <p class="summary">
        <xsl:value-of select="substring($clean, 1, 300)"/>
        <xsl:if test="string-length($clean) &gt; 300">…</xsl:if>
      </p>
    </xsl:if>
  </xsl:template>

  <!-- The text of an HTML fragment: its tags dropped, then its entities read. Only its first 2000
       characters: each tag and entity is one more call, and XSLT processors limit how deep calls go. -->
  <xsl:template name="html-text">
    <xsl:param name="html"/>
    <xsl:variable name="text">
      <xsl:call-template name="strip-tags">
        <xsl:with-param name="html" select="substring($html, 1, 2000)"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:call-template name="unescape">
      <xsl:with-param name="text" select="$text"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="strip-tags">
    <xsl:param name="html"/>
    <xsl:choose>
      <xsl:when test="contains($html, '&lt;')">
        <xsl:value-of select="substring-before($html, '&lt;')"/>
        <xsl:text> </xsl:text>
        <xsl:call-template name="strip-tags">
          <xsl:with-param name="html" select="substring-after(substring-after($html, '&lt;'), '&gt;')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$html"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The entities herald and most feeds write in HTML text; any other is left as written. -->
  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, '&amp;')">
        <xsl:value-of select="substring-before($text, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($text, '&amp;')"/>
        <xsl:variable name="name" select="substring-before($rest, ';')"/>
        <xsl:variable name="char">
          <xsl:choose>
            <xsl:when test="$name = 'amp'">&amp;</xsl:when>
            <xsl:when test="$name = 'lt'">&lt;</xsl:when>
            <xsl:when test="$name = 'gt'">&gt;</xsl:when>
            <xsl:when test="$name = 'quot' or $name = '#34'">"</xsl:when>
            <xsl:when test="$name = 'apos' or $name = '#39' or $name = '#x27'">'</xsl:when>
            <xsl:when test="$name = 'nbsp' or $name = '#160'">&#160;</xsl:when>
          </xsl:choose>
        </xsl:variable>
        <xsl:choose>
          <xsl:when test="string($char)">
            <xsl:value-of select="$char"/>
            <xsl:call-template name="unescape">
              <xsl:with-param name="text" select="substring($rest, string-length($name) + 2)"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="unescape">
              <xsl:with-param name="text" select="$rest"/>
            </xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
